# Register the import, then wait for it in the next step of the pipeline, with
# its progress in the job's log (import.json holds the data of the import, as
# configuration.import.register takes it). The step fails, with the portal's
# messages, if the import fails.
process_id=$(curl -sS -X POST "${BITRIX24_WEBHOOK_URL}configuration.import.register.json" \
  -H 'Content-Type: application/json' -d @import.json | jq -er '.result.processId')

terraform apply -auto-approve \
  -invoke=action.bitrix24_configuration_import_wait.crm \
  -var "crm_import_process_id=$process_id"
