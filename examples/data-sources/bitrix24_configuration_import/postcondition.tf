# In a pipeline run right after the import was registered: stop the plan with
# your own message unless the import has finished, without waiting.
data "bitrix24_configuration_import" "catalog" {
  process_id = 42

  lifecycle {
    postcondition {
      condition     = self.finished
      error_message = "The catalog import has not finished yet (state: ${self.state}); run again later."
    }
  }
}
