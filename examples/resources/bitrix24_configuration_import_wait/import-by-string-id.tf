# Or, with Terraform >= 1.5, record it with an import block and terraform apply.
import {
  to = bitrix24_configuration_import_wait.crm
  id = "42"
}
