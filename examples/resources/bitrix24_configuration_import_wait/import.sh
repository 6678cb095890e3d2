# Record an import that has already ended, by its process id.
terraform import bitrix24_configuration_import_wait.crm 42
