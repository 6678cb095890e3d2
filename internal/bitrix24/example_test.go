// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

func Example() {
	hook, err := bitrix24.ParseWebhookURL("https://your-portal.bitrix24.com/rest/1/0123456789abcdef/")
	if err != nil {
		log.Fatal(err) // the text never contains the webhook code
	}
	client, err := bitrix24.NewClient(bitrix24.Config{Auth: hook, UserAgent: "example/1.0"})
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	status, err := client.ConfigurationImport.Wait(ctx, 42, bitrix24.WaitOptions{
		PollInterval: time.Minute, // the portal advances an import once a minute
		OnPollError: func(e bitrix24.PollErrorEvent) {
			log.Printf("poll %d failed, trying again: %v", e.Poll, e.Err)
		},
	})
	var waitErr *bitrix24.WaitError
	switch {
	case errors.As(err, &waitErr) && errors.Is(waitErr, context.DeadlineExceeded):
		log.Fatalf("still running: %v", err)
	case err != nil:
		log.Fatal(err)
	}
	if err := bitrix24.ImportFailure(status); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("import %d finished: %s\n", status.ProcessID, status.CreatedItems)
}
