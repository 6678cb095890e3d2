# Report the state of an import as a warning, never blocking plan or apply
# (Terraform >= 1.5). Without `wait` the data source reads the status once, a
# single request, however long the import still takes.
check "crm_import" {
  data "bitrix24_configuration_import" "crm" {
    process_id = 42
  }

  assert {
    condition     = data.bitrix24_configuration_import.crm.finished
    error_message = "The CRM import is ${data.bitrix24_configuration_import.crm.state}, not finished."
  }
}
