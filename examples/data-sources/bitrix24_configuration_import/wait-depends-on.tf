# Wait until the import has finished before anything that depends on it.
# The read polls once a minute (the pace of the portal's agent) and fails the
# run with the portal's own messages if the import fails.
data "bitrix24_configuration_import" "settings" {
  process_id = var.import_process_id

  wait = {}

  timeouts = {
    read = "90m" # about 5 + 2 x sections + files minutes
  }
}

resource "terraform_data" "after_import" {
  input = data.bitrix24_configuration_import.settings.id

  depends_on = [data.bitrix24_configuration_import.settings]
}

variable "import_process_id" {
  type = number
}
