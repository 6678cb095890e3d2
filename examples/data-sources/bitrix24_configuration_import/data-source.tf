# Read the status of an import once, e.g. to show it.
data "bitrix24_configuration_import" "crm" {
  process_id = 42
}

output "crm_import_state" {
  value = data.bitrix24_configuration_import.crm.state
}
