# Record a failed import instead of failing the run, and branch on it.
data "bitrix24_configuration_import" "optional" {
  process_id = 42
  wait = {
    fail_on_error = false
  }
}

output "optional_import" {
  value = data.bitrix24_configuration_import.optional.status == "F" ? "imported" : join("; ", data.bitrix24_configuration_import.optional.exceptions[*].message)
}
