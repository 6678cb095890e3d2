# The configuration `make demo` applies against the portal emulator, on the
# recommended path: a bitrix24_configuration_import_wait resource waits for
# the import once, when it is created, and records how it ended; a resource
# built from what the import created comes after it.

terraform {
  required_providers {
    bitrix24 = {
      source = "b24-terraform/bitrix24"
    }
  }
}

variable "process_id" {
  type        = number
  description = "The processId that configuration.import.register returned."
}

# webhook_url comes from BITRIX24_WEBHOOK_URL, which the demo script sets.
provider "bitrix24" {}

# Polls at the portal's pace (once a minute, the default) until the import
# has finished, and fails the apply with the portal's messages if it fails.
resource "bitrix24_configuration_import_wait" "crm" {
  process_id = var.process_id

  timeouts {
    create = "5m"
  }
}

# Created only once the import has finished: it reads what the import created.
resource "terraform_data" "deal_pipelines" {
  input = [
    for item in jsondecode(bitrix24_configuration_import_wait.crm.created_items) : item.TITLE
    if item.ENTITY == "CRM_DEAL_CATEGORY"
  ]
}

output "import" {
  value = {
    state         = bitrix24_configuration_import_wait.crm.state
    finished_at   = bitrix24_configuration_import_wait.crm.finished_at
    notices       = bitrix24_configuration_import_wait.crm.notices[*].message
    created_items = jsondecode(bitrix24_configuration_import_wait.crm.created_items)
  }
}

output "deal_pipelines" {
  value = terraform_data.deal_pipelines.output
}
