# Record a failed import instead of failing the apply, and branch on the
# record: it stays as it was recorded, so the branch never flips.
resource "bitrix24_configuration_import_wait" "optional" {
  process_id = 43

  wait {
    fail_on_error = false
  }
}

output "optional_import" {
  value = bitrix24_configuration_import_wait.optional.finished ? "imported" : join("; ", bitrix24_configuration_import_wait.optional.exceptions[*].message)
}
