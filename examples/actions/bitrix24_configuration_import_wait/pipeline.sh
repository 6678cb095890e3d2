# Register the import, then wait for it in the next step of the pipeline,
# with its progress in the job's log. The step fails, with the portal's
# messages, if the import fails.
process_id=$(curl -fsS "$BITRIX24_WEBHOOK_URL/configuration.import.register.json" \
  --json @import.json | jq -er '.result.processId')

terraform apply -auto-approve \
  -invoke=action.bitrix24_configuration_import_wait.crm \
  -var "crm_import_process_id=$process_id"
