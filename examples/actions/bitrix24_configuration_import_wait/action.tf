# Wait for a configuration import in a pipeline step, right after it was
# registered, and watch it: the action prints the import's status, step and
# section at every change. It keeps nothing in state. Run it with
#   terraform apply -invoke=action.bitrix24_configuration_import_wait.crm
action "bitrix24_configuration_import_wait" "crm" {
  config {
    process_id = var.crm_import_process_id
    timeout    = "90m" # about 5 + 2 x sections + files minutes
  }
}

variable "crm_import_process_id" {
  type        = number
  description = "The processId that configuration.import.register returned."
}
