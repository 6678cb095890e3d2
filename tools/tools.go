// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

//go:build generate

// Package tools pins the versions of the tools that generate and check this
// repository, so that `go run` builds exactly these and nothing needs to be
// installed beforehand.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
	_ "github.com/goreleaser/goreleaser/v2"
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
