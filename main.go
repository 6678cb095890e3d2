// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/provider"
)

// Run "go generate" in tools/ to format examples and regenerate docs/.

// version is set by goreleaser (-ldflags "-X main.version=...") for releases.
var version = "dev"

func main() {
	var debug, showVersion bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.BoolVar(&showVersion, "version", false, "print the provider version and exit")
	flag.Parse()

	if showVersion {
		fmt.Println(version)
		return
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/b24-terraform/bitrix24",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
