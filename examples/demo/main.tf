# The configuration `make demo` applies against the portal emulator: a
# resource that must not be created before a configuration import finished.
# The emulator's agent runs every 2 seconds instead of every minute, so this
# waits about half a minute instead of a quarter of an hour.

terraform {
  required_providers {
    bitrix24 = {
      source = "b24-terraform/bitrix24"
    }
  }
}

variable "process_id" {
  type        = number
  description = "The processId of the import to wait for."
}

# webhook_url comes from BITRIX24_WEBHOOK_URL, which the demo script sets.
provider "bitrix24" {}

data "bitrix24_configuration_import" "crm" {
  process_id = var.process_id

  wait {
    poll_interval = "2s" # the emulator's agent period; keep the 1m default on a real portal
  }

  timeouts {
    read = "2m"
  }
}

resource "terraform_data" "after_import" {
  input = "created after import ${data.bitrix24_configuration_import.crm.id} reached ${data.bitrix24_configuration_import.crm.state}"
}

output "import" {
  value = {
    status        = data.bitrix24_configuration_import.crm.status
    state         = data.bitrix24_configuration_import.crm.state
    notices       = data.bitrix24_configuration_import.crm.notices[*].message
    created_items = data.bitrix24_configuration_import.crm.created_items
  }
}

output "gated_resource" {
  value = terraform_data.after_import.output
}
