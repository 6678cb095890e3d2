// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package bitrix24

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Auth is the seam for credentials: the webhook now, OAuth later.
type Auth interface {
	// MethodURL returns the full URL of a REST method (contains the secret for a webhook).
	MethodURL(method string) string
	// Redact removes any secret this Auth holds from s (used for every URL or error text shown).
	Redact(s string) string
}

const redactedCode = "***"

// minWebhookCodeLength is the length of the codes the portal issues: a
// shorter one is a typo, and redacting it would garble the texts it is in.
const minWebhookCodeLength = 16

// webhookPath matches the escaped path, so a percent-encoded code is refused.
var webhookPath = regexp.MustCompile(`^/rest/([0-9]+)/([A-Za-z0-9_]+)/?$`)

// Webhook is an incoming webhook https://PORTAL/rest/USER_ID/CODE/; it
// implements Auth. Its code, the whole credential, leaves it only through
// MethodURL.
type Webhook struct {
	base        string // https://PORTAL/rest/USER_ID/
	code        string
	codePattern *regexp.Regexp // SecretPattern(code)
}

// WebhookURLError says why a webhook URL was refused. Its text never contains
// the URL given, which would carry the webhook code.
type WebhookURLError struct {
	Reason string
}

func (e *WebhookURLError) Error() string {
	return "invalid Bitrix24 webhook URL: " + e.Reason + "; it must look like https://your-portal.bitrix24.com/rest/1/<webhook code>/"
}

// ParseWebhookURL checks and parses an incoming webhook URL: https (http
// only for a loopback host, where the emulator runs), no user info, query
// or fragment, and the path /rest/<user id>/<code>/. Surrounding whitespace
// is ignored: values read from files and the environment often end with a
// newline.
func ParseWebhookURL(raw string) (*Webhook, error) {
	raw = strings.TrimSpace(raw)
	// url.Parse errors quote the input, so they are never passed on.
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &WebhookURLError{Reason: "the value is not a valid URL"}
	}
	for _, check := range []struct {
		invalid bool
		reason  string
	}{
		{raw == "", "the value is empty"},
		{!u.IsAbs() || u.Opaque != "", "the value is not an absolute URL"},
		{u.Hostname() == "", "the URL has no host"},
		{u.Scheme == "http" && !isLoopbackHost(u.Hostname()), "http is allowed only for a loopback host (the emulator); use https"},
		{u.Scheme != "http" && u.Scheme != "https", "the scheme must be https"},
		{u.User != nil, "the URL must not contain a user name or password"},
		{u.RawQuery != "" || u.ForceQuery, "the URL must not have a query string"},
		{u.Fragment != "" || strings.Contains(raw, "#"), "the URL must not have a fragment"},
	} {
		if check.invalid {
			return nil, &WebhookURLError{Reason: check.reason}
		}
	}

	m := webhookPath.FindStringSubmatch(u.EscapedPath())
	if m == nil {
		return nil, &WebhookURLError{Reason: webhookPathProblem(u.EscapedPath())}
	}

	if len(m[2]) < minWebhookCodeLength {
		return nil, &WebhookURLError{Reason: fmt.Sprintf("the webhook code is shorter than the %d characters the portal issues; copy the whole URL from the webhook's page", minWebhookCodeLength)}
	}

	return &Webhook{
		base:        u.Scheme + "://" + u.Host + "/rest/" + m[1] + "/",
		code:        m[2],
		codePattern: SecretPattern(m[2]),
	}, nil
}

// webhookPathProblem names what is wrong with a path that is not
// /rest/<user id>/<code>/, without repeating any part of it.
func webhookPathProblem(path string) string {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segments) == 0 || segments[0] != "rest":
		return "the path must start with /rest/"
	case len(segments) < 2 || segments[1] == "":
		return "the path has no user id after /rest/"
	case strings.Trim(segments[1], "0123456789") != "":
		return "the user id after /rest/ must be a number"
	case len(segments) < 3 || segments[2] == "":
		return "the path has no webhook code after the user id"
	case len(segments) > 3:
		return "the path must end after the webhook code (give the webhook URL, not a method URL)"
	default:
		return "the webhook code may contain only letters, digits and underscores"
	}
}

func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") || ip != nil && ip.IsLoopback()
}

// MethodURL returns https://PORTAL/rest/USER_ID/CODE/METHOD.json. The result
// contains the webhook code: never log or show it without Redact.
func (w *Webhook) MethodURL(method string) string {
	return w.base + w.code + "/" + url.PathEscape(method) + ".json"
}

// Redact replaces the webhook code in s, and any start of it six
// characters or longer (a URL cut short), with *** (see SecretPattern).
func (w *Webhook) Redact(s string) string {
	// The regexp copies s even when nothing matches; most texts hold no code.
	if w == nil || w.codePattern == nil || !w.codePattern.MatchString(s) {
		return s
	}
	return w.codePattern.ReplaceAllLiteralString(s, redactedCode)
}

// Secrets returns the secret strings this webhook holds (its code), for log
// masking with SecretPattern and tflog.MaskLogRegexes. Never show them.
func (w *Webhook) Secrets() []string {
	return []string{w.code}
}

// String returns the webhook URL with its code redacted,
// e.g. https://portal.example/rest/1/***/.
func (w *Webhook) String() string {
	return w.base + redactedCode + "/"
}
