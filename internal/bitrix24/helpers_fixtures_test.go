// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

// Answers of a real portal, shaped as the portal's REST documentation and its
// rest module's source describe them.

// testWebhookCode is the secret of the test webhook: no error text, log field
// or excerpt may contain it.
const testWebhookCode = "k7Xq2Secret9Hook"

// timeCloud is a cloud portal's time block (with the operating fields).
const timeCloud = `{"start":1629303000.9341,"finish":1629303001.0443,"duration":0.11020803451538,` +
	`"processing":0.054312944412231,"date_start":"2021-08-18T18:10:00+02:00",` +
	`"date_finish":"2021-08-18T18:10:01+02:00","operating":0.0123,"operating_reset_at":1629303600}`

// answerDocExample is the example of configuration.import.get's documentation
// page, verbatim.
const answerDocExample = `{"result": {"status": "P", "progress": {"action": "manifest", "step": 0, "section": ` +
	`"REST_APPLICATION"}}, "time": {"start": 1629303000.9341, "finish": 1629303001.0443, ` +
	`"duration": 0.11020803451538, "processing": 0.054312944412231, "date_start": ` +
	`"2021-08-18T18:10:00+02:00", "date_finish": "2021-08-18T18:10:01+02:00"}}`

func envelope(result string) string {
	return `{"result":` + result + `,"time":` + timeCloud + `}`
}

// Results of configuration.import.get.
const (
	resultStarted            = `{"status":"S"}`
	resultStart              = `{"status":"P","progress":{"action":"start","step":0}}`
	resultInitBackground     = `{"status":"P","progress":{"action":"init_background","step":0}}`
	resultManifest           = `{"status":"P","progress":{"action":"manifest","step":0,"section":"REST_APPLICATION"}}`
	resultClean              = `{"status":"P","progress":{"action":"clean","step":1,"section":"CRM_STATUS"}}`
	resultLoad               = `{"status":"P","progress":{"action":"load","step":3,"section":"CRM_STATUS"}}`
	resultFinish             = `{"status":"P","progress":{"action":"finish","step":0}}`
	resultActionFalse        = `{"status":"P","progress":{"action":false,"step":7}}`
	resultStepString         = `{"status":"P","progress":{"action":"load","step":"3","section":"CRM_STATUS"}}`
	resultFinishedEmpty      = `{"status":"F","additional":[],"createItemList":[]}`
	resultFinishedEmptyObj   = `{"status":"F","additional":{},"createItemList":[]}`
	resultFinishedWithResult = `{"status":"F","additional":{"APP_ID": 12, "MANIFEST_CODE":"vertical_crm"},` +
		`"createItemList":[{"ENTITY":"CRM_STATUS","ID":"45"},{"ENTITY":"TASKS","ID":7}],` +
		`"notice":[{"code":"","message":"Imported 2 sections","type":"notice"}]}`
	resultFailed = `{"status":"E","progress":{"action":"load","step":3,"section":"CRM_STATUS"},` +
		`"notice":{"1":{"code":"","message":"Section CRM_STATUS cleaned","type":"notice"},` +
		`"3":{"code":"","message":"Loading CRM_STATUS","type":"notice"}},` +
		`"errors":[{"code":"ERROR_STATUS_EXISTS","message":"Status NEW exists","type":"error"}],` +
		`"exception":{"4":{"code":"","message":"Cannot read file 12.json","type":"exception"}}}`
	resultUnknown       = `{"status":"U"}`
	resultUnrecognised  = `{"status":"X","progress":{"action":"load","step":1}}`
	resultNoticeTenKeys = `{"status":"P","notice":{"10":{"code":"","message":"ten","type":"notice"},` +
		`"9":{"code":"","message":"nine","type":"notice"},"2":{"code":"","message":"two","type":"notice"}}}`
)

// Error answers.
const (
	answerInvalidCredentials = `{"error":"INVALID_CREDENTIALS","error_description":"Invalid request credentials"}`
	answerMethodNotFound     = `{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}`
	answerQueryLimit         = `{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}`
	answerOverload           = `{"error":"OVERLOAD_LIMIT","error_description":"REST API is blocked due to overload."}`
	answerEmptyCode          = `{"error":"","error_description":"Internal error"}`
	answerProcessNotFound    = `{"result":{"error":"PROCESS_NOT_FOUND","error_description":"Process doesn't found."},"time":` + timeCloud + `}`

	answerGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
		"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

// allImportResults seeds the fuzz test and the decoder tests.
var allImportResults = []string{
	resultStarted, resultStart, resultInitBackground, resultManifest, resultClean, resultLoad,
	resultFinish, resultActionFalse, resultStepString, resultFinishedEmpty, resultFinishedEmptyObj,
	resultFinishedWithResult, resultFailed, resultUnknown, resultUnrecognised, resultNoticeTenKeys,
	`{"status": "P", "progress": {"action": "manifest", "step": 0, "section": "REST_APPLICATION"}}`,
}
