// Command databricks-go-contract drives a Databricks workspace through Databricks' Go SDK, over
// the same life cycle the controller runs for every kind, and asserts the SDK's own waiters and
// typed errors. It is a second official client for the workspace emulator: an answer the Python
// SDK tolerates but the Go SDK does not shows up here.
//
// It prints one line per check and exits 1 at the first failure, naming the last HTTP exchange.
// Credentials come from the SDK's own environment variables (DATABRICKS_HOST, DATABRICKS_AUTH_TYPE
// and DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET); the objects it
// expects to exist already (a Unity Catalog model with READY versions 1 and 2, a table, an output
// schema) are named by flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/client"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

type options struct {
	expectUser   string
	model        string
	modelCatalog string
	modelSchema  string
	table        string
	outputSchema string
	prefix       string
	wait         time.Duration
}

// contract holds what every check needs; checks run in order and later ones use earlier results.
type contract struct {
	ctx      context.Context
	w        *databricks.WorkspaceClient
	raw      *client.DatabricksClient
	recorder *recorder
	opts     options
}

func main() {
	var opts options
	flag.StringVar(&opts.expectUser, "expect-user", "", "user name the credentials belong to (required)")
	flag.StringVar(&opts.model, "model", "", "Unity Catalog model catalog.schema.name with READY versions 1 and 2 (required)")
	flag.StringVar(&opts.table, "table", "", "table catalog.schema.name to monitor, with columns prediction, label, model_id, timestamp (required)")
	flag.StringVar(&opts.outputSchema, "output-schema", "", "schema catalog.schema for the monitor's metric tables (required)")
	flag.StringVar(&opts.prefix, "prefix", "go-contract", "prefix of the names of the objects this program creates")
	flag.DurationVar(&opts.wait, "wait", 2*time.Minute, "longest wait for one asynchronous state")
	flag.Parse()
	for name, value := range map[string]string{
		"expect-user": opts.expectUser, "model": opts.model, "table": opts.table, "output-schema": opts.outputSchema,
	} {
		if value == "" {
			fmt.Fprintf(os.Stderr, "the -%s flag is required\n", name)
			os.Exit(2)
		}
	}

	parts := strings.Split(opts.model, ".")
	if len(parts) != 3 {
		fmt.Fprintf(os.Stderr, "-model %q is not catalog.schema.name\n", opts.model)
		os.Exit(2)
	}
	opts.modelCatalog, opts.modelSchema = parts[0], parts[1]

	c, err := connect(opts)
	if err != nil {
		fmt.Printf("FAIL connect: %s\n", describe(err))
		os.Exit(1)
	}
	c.workspace()
	c.registeredModel()
	c.servingEndpoint()
	c.job()
	c.monitor()
	fmt.Println("all checks passed")
}

func connect(opts options) (*contract, error) {
	authType := os.Getenv("DATABRICKS_AUTH_TYPE")
	if authType != "pat" && authType != "oauth-m2m" {
		return nil, fmt.Errorf("DATABRICKS_AUTH_TYPE must be pat or oauth-m2m, not %q", authType)
	}
	rec := &recorder{}
	cfg := &databricks.Config{
		// The controller's bounds: no reconcile waits on the SDK's default 5-minute retry budget.
		RetryTimeoutSeconds: 20,
		HTTPTimeoutSeconds:  15,
		HTTPTransport:       rec.wrap(),
	}
	w, err := databricks.NewWorkspaceClient(cfg)
	if err != nil {
		return nil, err
	}
	raw, err := client.New(w.Config)
	if err != nil {
		return nil, err
	}
	fmt.Printf("# %s as %s, auth %s\n", w.Config.Host, opts.expectUser, w.Config.AuthType)
	return &contract{ctx: context.Background(), w: w, raw: raw, recorder: rec, opts: opts}, nil
}

// check runs one step and prints its line; a failure ends the program.
func (c *contract) check(name string, step func() error) {
	started := time.Now()
	err := step()
	if err != nil {
		fmt.Printf("FAIL %s: %s\n", name, describe(err))
		fmt.Printf("     last call: %s\n", c.recorder.last())
		os.Exit(1)
	}
	fmt.Printf("ok   %s (%s)\n", name, time.Since(started).Round(time.Millisecond))
}

// describe names the HTTP status and Databricks error code of an API error, which its message omits.
func describe(err error) string {
	var apiErr *apierr.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("HTTP %d %s: %s", apiErr.StatusCode, apiErr.ErrorCode, err)
	}
	return err.Error()
}

// expectError passes when err is the SDK's typed error want.
func expectError(err error, want error, call string) error {
	if err == nil {
		return fmt.Errorf("%s succeeded; want the SDK's error %q", call, want)
	}
	if !errors.Is(err, want) {
		return fmt.Errorf("%s failed with %s; want the SDK's error %q", call, describe(err), want)
	}
	return nil
}

// expect turns a failed expectation into an error.
func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

func (c *contract) workspace() {
	c.check("workspace: current user is the credentials' principal", func() error {
		me, err := c.w.CurrentUser.Me(c.ctx, iam.MeRequest{})
		if err != nil {
			return err
		}
		return expect(me.UserName == c.opts.expectUser, "user name %q, want %q", me.UserName, c.opts.expectUser)
	})
}
