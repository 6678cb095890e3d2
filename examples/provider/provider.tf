terraform {
  required_version = ">= 1.5"

  required_providers {
    bitrix24 = {
      source  = "b24-terraform/bitrix24"
      version = "~> 0.1"
    }
  }
}

# webhook_url comes from the BITRIX24_WEBHOOK_URL environment variable, which
# keeps the webhook's code, the whole credential, out of the configuration.
provider "bitrix24" {}
