// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

// Package bitrix24 is a small client for the Bitrix24 REST API.
//
// It knows how to call a method through an incoming webhook (Auth is the seam
// for OAuth later), how to tell the portal's answers apart (a result, an error
// envelope, an error returned inside the result, or something that is not an
// envelope at all) and how to read and wait for a configuration import.
//
// The package has no Terraform dependency: the provider adapts Logger to tflog
// and turns errors into diagnostics.
//
// Secrets: a webhook URL carries its whole credential. Every URL and every
// error text this package produces goes through Auth.Redact first.
package bitrix24
