terraform {
  required_providers {
    bitrix24 = {
      source = "b24-terraform/bitrix24"
    }
  }
}

# The webhook URL holds a secret: prefer the BITRIX24_WEBHOOK_URL environment
# variable, or pass it in as a sensitive variable.
provider "bitrix24" {
  webhook_url = var.bitrix24_webhook_url
}

variable "bitrix24_webhook_url" {
  type      = string
  sensitive = true
}
