// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// stopGrace bounds how long StopProvider waits for actions in flight to
// deliver their last event; a cancelled wait returns at once.
const stopGrace = 10 * time.Second

// NewProtocol6Server serves the provider as providerserver.NewProtocol6
// does, except that an action cancelled by Ctrl-C still reports how it
// ended. On StopProvider, terraform-plugin-go cancels the contexts of the
// RPCs in flight, which ends an action's event stream before its completed
// event, and Terraform takes such an action as one that succeeded; so
// StopProvider is held until every action in flight has sent that event.
// And once stopped, Terraform halts at an action's next event, reading the
// completed event only if it comes first: so progress events after
// StopProvider are dropped (the action's error says all they would).
func NewProtocol6Server(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		return newProtocolServer(New(version)())
	}
}

// newProtocolServer serves p; the acceptance tests serve their providers
// through it too, so that they run what Terraform runs.
func newProtocolServer(p provider.Provider) tfprotov6.ProviderServer {
	// ProviderServerWithActions is deprecated only in favour of ProviderServer
	// taking its methods, which it has not yet (terraform-plugin-go v0.31).
	framework, ok := providerserver.NewProtocol6(p)().(tfprotov6.ProviderServerWithActions) //nolint:staticcheck
	if !ok {
		panic("providerserver.NewProtocol6 serves no actions") // it has since terraform-plugin-framework v1.16
	}
	return &protocolServer{ProviderServerWithActions: framework, streams: map[chan struct{}]struct{}{}}
}

// protocolServer is the framework's server with the action streams tracked.
type protocolServer struct {
	tfprotov6.ProviderServerWithActions

	mu       sync.Mutex
	streams  map[chan struct{}]struct{} // closed once a stream's last event is sent
	stopping atomic.Bool                // StopProvider was called
}

// InvokeAction tracks the stream until its iterator returns, which it does
// only after the last event it pushed has been sent to Terraform.
// It is tracked before the call, so that a StopProvider that comes while
// the framework sets the stream up waits for it too.
func (s *protocolServer) InvokeAction(ctx context.Context, req *tfprotov6.InvokeActionRequest) (*tfprotov6.InvokeActionServerStream, error) {
	sent := make(chan struct{})
	s.mu.Lock()
	s.streams[sent] = struct{}{}
	s.mu.Unlock()
	untrack := func() {
		s.mu.Lock()
		delete(s.streams, sent)
		s.mu.Unlock()
		close(sent)
	}

	stream, err := s.ProviderServerWithActions.InvokeAction(ctx, req)
	if err != nil || stream == nil || stream.Events == nil {
		untrack()
		return stream, err
	}
	events := stream.Events
	stream.Events = func(push func(tfprotov6.InvokeActionEvent) bool) {
		defer untrack()
		events(func(e tfprotov6.InvokeActionEvent) bool {
			if _, progress := e.Type.(tfprotov6.ProgressInvokeActionEventType); progress && s.stopping.Load() {
				return true
			}
			return push(e)
		})
	}
	return stream, nil
}

// StopProvider cancels the waits in flight, then returns only once their
// actions have sent their last event (or after stopGrace); from now on their
// progress events are dropped.
func (s *protocolServer) StopProvider(ctx context.Context, req *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	s.stopping.Store(true)
	resp, err := s.ProviderServerWithActions.StopProvider(ctx, req)

	s.mu.Lock()
	pending := slices.Collect(maps.Keys(s.streams))
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, stopGrace)
	defer cancel()
	for _, sent := range pending {
		select {
		case <-sent:
		case <-ctx.Done():
			return resp, err
		}
	}
	return resp, err
}
