// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

//go:build generate

// Package actionlint pins actionlint, which checks .github/workflows/. It has
// a module of its own because golangci-lint needs a newer go.yaml.in/yaml/v4
// than actionlint builds with, and one module can hold only one version.
package actionlint

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)
