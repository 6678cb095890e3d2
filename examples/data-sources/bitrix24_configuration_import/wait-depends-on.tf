# In a pipeline run right after the import was registered: wait until it has
# finished before anything that depends on it. The read polls once a minute
# (the pace of the portal's agent) and fails the run with the portal's own
# messages if the import fails. The dependent takes the id, which does not
# change when the portal later forgets the import; a configuration that is
# planned again days later gates on bitrix24_configuration_import_wait instead.
data "bitrix24_configuration_import" "settings" {
  process_id = var.import_process_id

  wait {}

  timeouts {
    read = "90m" # about 5 + 2 x sections + files minutes
  }
}

resource "terraform_data" "after_import" {
  input = data.bitrix24_configuration_import.settings.id
}

variable "import_process_id" {
  type = number
}
