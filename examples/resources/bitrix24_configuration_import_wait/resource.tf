# Wait for a configuration import once, when the resource is created, and keep
# the record. Later plans read it from state without asking the portal, also
# after the portal has forgotten the import.
resource "bitrix24_configuration_import_wait" "crm" {
  process_id = var.crm_import_process_id

  timeouts {
    create = "90m" # about 5 + 2 x sections + files minutes
  }
}

# Gate by reference: known once the import has finished, and never changes
# after that.
resource "terraform_data" "crm_pipelines" {
  input = bitrix24_configuration_import_wait.crm.created_items
}

# Or gate by order alone.
resource "terraform_data" "after_crm_import" {
  input      = "configured after the CRM import"
  depends_on = [bitrix24_configuration_import_wait.crm]
}

variable "crm_import_process_id" {
  type        = number
  description = "The processId that configuration.import.register returned."
}
