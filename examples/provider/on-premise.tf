# An on-premise portal whose certificate comes from the company's own CA, on
# an Enterprise plan (5 requests a second, bursts of 250).
provider "bitrix24" {
  alias       = "on_premise"
  webhook_url = var.on_premise_webhook_url
  ca_cert_pem = file("${path.module}/company-ca.pem")
  rate_limit  = 5
  rate_burst  = 250
  max_retries = 8
}

variable "on_premise_webhook_url" {
  type      = string
  sensitive = true
}
