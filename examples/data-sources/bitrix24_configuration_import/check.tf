# Report a failed import as a warning without blocking the run (Terraform >= 1.5).
check "crm_import" {
  data "bitrix24_configuration_import" "crm" {
    process_id = 42
    wait = {
      poll_interval = "1m"
    }
  }

  assert {
    condition     = data.bitrix24_configuration_import.crm.finished
    error_message = "The CRM import is ${data.bitrix24_configuration_import.crm.state}."
  }
}
