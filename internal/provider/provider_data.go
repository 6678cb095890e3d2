// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// providerData is what Configure hands to every data source, resource and
// action.
type providerData struct {
	client *bitrix24.Client
	// clock is the client's: the action's elapsed times and finished_at
	// read the clock the wait runs on.
	clock bitrix24.Clock
	// secrets are masked in every log line written while serving a request.
	secrets              []string
	pollIntervalOverride time.Duration
}

// newProviderData makes the client of cfg and keeps what a request needs
// besides it.
func newProviderData(cfg bitrix24.Config, secrets []string) (*providerData, error) {
	client, err := bitrix24.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &providerData{client: client, clock: cmp.Or(cfg.Clock, bitrix24.RealClock()), secrets: secrets}, nil
}

// providerDataFrom is the *providerData that Configure handed to a data
// source, resource or action; nil before the provider is configured
// (Terraform validates configurations with an unconfigured provider).
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	p, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
	}
	return p
}

// start begins every request that reaches the portal: it needs a configured
// provider (p is nil otherwise), and what it logs hides the webhook's
// secrets.
func (p *providerData) start(ctx context.Context, diags *diag.Diagnostics) (context.Context, bool) {
	if p == nil {
		diags.AddError("Provider not configured",
			"The provider was not configured before it was asked to reach the portal. This is a bug in the provider; please report it.")
		return ctx, false
	}
	return p.masked(ctx), true
}

// masked is ctx set up for logging, hiding the webhook's secrets in what it
// logs; p may be nil (then there are none), as for a resource read without
// a configured provider.
func (p *providerData) masked(ctx context.Context) context.Context {
	if p == nil {
		return requestLogging(ctx, nil)
	}
	return requestLogging(ctx, p.secrets)
}
