package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/retries"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

func (c *contract) servingEndpoint() {
	name := c.opts.prefix + "-serving"
	catalogName, schemaName := c.opts.modelCatalog, c.opts.modelSchema
	inferenceTable := &serving.AiGatewayInferenceTableConfig{
		Enabled:         true,
		CatalogName:     catalogName,
		SchemaName:      schemaName,
		TableNamePrefix: strings.ReplaceAll(name, "-", "_"),
	}

	c.check("serving: get before create is NotFound", func() error {
		_, err := c.w.ServingEndpoints.GetByName(c.ctx, name)
		return expectError(err, databricks.ErrNotFound, "serving_endpoints.get of a missing endpoint")
	})

	c.check("serving: create with a served entity, tags and an inference table; the SDK's waiter reaches NOT_UPDATING", func() error {
		wait, err := c.w.ServingEndpoints.Create(c.ctx, serving.CreateServingEndpoint{
			Name:      name,
			Config:    c.servedVersion(name, "1"),
			Tags:      []serving.EndpointTag{{Key: "team", Value: "risk"}},
			AiGateway: &serving.AiGatewayConfig{InferenceTableConfig: inferenceTable},
		})
		if err != nil {
			return err
		}
		if state := wait.Response.State; state == nil || state.ConfigUpdate != serving.EndpointStateConfigUpdateInProgress {
			return fmt.Errorf("create answered state %+v, want config_update IN_PROGRESS", state)
		}
		endpoint, err := wait.GetWithTimeout(c.opts.wait)
		if err != nil {
			return err
		}
		if err := servesVersion(endpoint, "1"); err != nil {
			return err
		}
		return sameTags(endpoint.Tags, map[string]string{"team": "risk"})
	})

	c.check("serving: update the config; config, tag and AI gateway writes meanwhile are ResourceConflict; WaitGetServingEndpointNotUpdating", func() error {
		wait, err := c.w.ServingEndpoints.UpdateConfig(c.ctx, *c.servedVersion(name, "2"))
		if err != nil {
			return err
		}
		pending := wait.Response.PendingConfig
		if pending == nil || len(pending.ServedEntities) != 1 || pending.ServedEntities[0].EntityVersion != "2" {
			return fmt.Errorf("update_config answered pending_config %+v, want version 2 served", pending)
		}
		_, err = c.w.ServingEndpoints.Patch(c.ctx, serving.PatchServingEndpointTags{
			Name: name, AddTags: []serving.EndpointTag{{Key: "stage", Value: "prod"}},
		})
		if err := expectError(err, databricks.ErrResourceConflict, "patch while updating"); err != nil {
			return err
		}
		_, err = c.w.ServingEndpoints.PutAiGateway(c.ctx, serving.PutAiGatewayRequest{Name: name, InferenceTableConfig: inferenceTable})
		if err := expectError(err, databricks.ErrResourceConflict, "put_ai_gateway while updating"); err != nil {
			return err
		}
		_, err = c.w.ServingEndpoints.UpdateConfig(c.ctx, *c.servedVersion(name, "1"))
		if err := expectError(err, databricks.ErrResourceConflict, "update_config while updating"); err != nil {
			return err
		}
		endpoint, err := c.w.ServingEndpoints.WaitGetServingEndpointNotUpdating(c.ctx, name, c.opts.wait, nil)
		if err != nil {
			return err
		}
		return servesVersion(endpoint, "2")
	})

	c.check("serving: patch tags (add one, remove one)", func() error {
		answer, err := c.w.ServingEndpoints.Patch(c.ctx, serving.PatchServingEndpointTags{
			Name:       name,
			AddTags:    []serving.EndpointTag{{Key: "stage", Value: "prod"}},
			DeleteTags: []string{"team"},
		})
		if err != nil {
			return err
		}
		if err := sameTags(answer.Tags, map[string]string{"stage": "prod"}); err != nil {
			return fmt.Errorf("patch answered: %w", err)
		}
		endpoint, err := c.w.ServingEndpoints.GetByName(c.ctx, name)
		if err != nil {
			return err
		}
		return sameTags(endpoint.Tags, map[string]string{"stage": "prod"})
	})

	c.check("serving: put the AI gateway (inference table and a rate limit)", func() error {
		limit := serving.AiGatewayRateLimit{
			Calls: 100, Key: serving.AiGatewayRateLimitKeyUser, RenewalPeriod: serving.AiGatewayRateLimitRenewalPeriodMinute,
		}
		answer, err := c.w.ServingEndpoints.PutAiGateway(c.ctx, serving.PutAiGatewayRequest{
			Name: name, InferenceTableConfig: inferenceTable, RateLimits: []serving.AiGatewayRateLimit{limit},
		})
		if err != nil {
			return err
		}
		if len(answer.RateLimits) != 1 || answer.RateLimits[0].Calls != 100 || answer.InferenceTableConfig == nil ||
			!answer.InferenceTableConfig.Enabled {
			return fmt.Errorf("put_ai_gateway answered %+v, want the inference table and 100 calls a minute per user", answer)
		}
		endpoint, err := c.w.ServingEndpoints.GetByName(c.ctx, name)
		if err != nil {
			return err
		}
		gateway := endpoint.AiGateway
		return expect(gateway != nil && len(gateway.RateLimits) == 1 && gateway.RateLimits[0].Key == serving.AiGatewayRateLimitKeyUser,
			"the endpoint's ai_gateway is %+v after put_ai_gateway, want one rate limit per user", gateway)
	})

	c.check("serving: the deployed endpoint's inference table is in Unity Catalog", func() error {
		table := fmt.Sprintf("%s.%s.%s_payload", catalogName, schemaName, inferenceTable.TableNamePrefix)
		info, err := c.w.Tables.GetByFullName(c.ctx, table)
		if err != nil {
			return err
		}
		return expect(info.TableId != "", "table %s has no table_id", table)
	})

	c.check("serving: the health metrics export is Prometheus text with a series per served entity", func() error {
		answer, err := c.w.ServingEndpoints.ExportMetrics(c.ctx, serving.ExportMetricsRequest{Name: name})
		if err != nil {
			return err
		}
		if answer.Contents == nil {
			return fmt.Errorf("export_metrics answered no contents")
		}
		defer answer.Contents.Close()
		body, err := io.ReadAll(answer.Contents)
		if err != nil {
			return err
		}
		text := string(body)
		return expect(strings.Contains(text, "# TYPE request_count_total gauge\n") &&
			strings.Contains(text, `request_count_total{served_model_name="`),
			"export_metrics answered %q, want Prometheus text with request_count_total per served entity", text)
	})

	c.check("serving: a config serving a missing version ends UPDATE_FAILED, and the SDK's waiter stops on it", func() error {
		failing := name + "-failing"
		wait, err := c.w.ServingEndpoints.Create(c.ctx, serving.CreateServingEndpoint{Name: failing, Config: c.servedVersion(failing, "99")})
		if err != nil {
			return err
		}
		_, err = wait.GetWithTimeout(c.opts.wait)
		var timedOut *retries.ErrTimedOut
		if err == nil || errors.As(err, &timedOut) || !strings.Contains(err.Error(), string(serving.EndpointStateConfigUpdateUpdateFailed)) {
			return fmt.Errorf("the waiter answered %v; want it to stop on UPDATE_FAILED", err)
		}
		endpoint, err := c.w.ServingEndpoints.GetByName(c.ctx, failing)
		if err != nil {
			return err
		}
		if endpoint.State == nil || endpoint.State.Ready != serving.EndpointStateReadyNotReady {
			return fmt.Errorf("state %+v after a failed first deploy, want NOT_READY", endpoint.State)
		}
		return c.w.ServingEndpoints.DeleteByName(c.ctx, failing)
	})

	c.check("serving: delete; a get after is NotFound", func() error {
		if err := c.w.ServingEndpoints.DeleteByName(c.ctx, name); err != nil {
			return err
		}
		_, err := c.w.ServingEndpoints.GetByName(c.ctx, name)
		return expectError(err, databricks.ErrNotFound, "serving_endpoints.get after delete")
	})
}

// servedVersion is a config serving one version of the model, with all traffic, as "champion".
func (c *contract) servedVersion(endpoint, version string) *serving.EndpointCoreConfigInput {
	return &serving.EndpointCoreConfigInput{
		Name: endpoint,
		ServedEntities: []serving.ServedEntityInput{{
			Name:               "champion",
			EntityName:         c.opts.model,
			EntityVersion:      version,
			WorkloadSize:       "Small",
			ScaleToZeroEnabled: true,
		}},
		TrafficConfig: &serving.TrafficConfig{Routes: []serving.Route{{ServedEntityName: "champion", TrafficPercentage: 100}}},
	}
}

// servesVersion checks a settled endpoint: ready, not updating, the one entity deployed with all traffic.
func servesVersion(endpoint *serving.ServingEndpointDetailed, version string) error {
	state := endpoint.State
	if state == nil || state.Ready != serving.EndpointStateReadyReady || state.ConfigUpdate != serving.EndpointStateConfigUpdateNotUpdating {
		return fmt.Errorf("state %+v, want READY and NOT_UPDATING", state)
	}
	if endpoint.PendingConfig != nil {
		return fmt.Errorf("pending_config %+v remains after the update", endpoint.PendingConfig)
	}
	config := endpoint.Config
	if config == nil || len(config.ServedEntities) != 1 {
		return fmt.Errorf("config %+v, want one served entity", config)
	}
	entity := config.ServedEntities[0]
	if entity.Name != "champion" || entity.EntityVersion != version || !entity.ScaleToZeroEnabled {
		return fmt.Errorf("served entity %q version %q scale_to_zero %t, want champion version %s scale_to_zero true",
			entity.Name, entity.EntityVersion, entity.ScaleToZeroEnabled, version)
	}
	if entity.State == nil || entity.State.Deployment != serving.ServedModelStateDeploymentDeploymentReady {
		return fmt.Errorf("served entity state %+v, want DEPLOYMENT_READY", entity.State)
	}
	routes := config.TrafficConfig
	if routes == nil || len(routes.Routes) != 1 || routes.Routes[0].ServedEntityName != "champion" || routes.Routes[0].TrafficPercentage != 100 {
		return fmt.Errorf("traffic_config %+v, want 100%% to champion", routes)
	}
	return nil
}

func sameTags(tags []serving.EndpointTag, want map[string]string) error {
	got := map[string]string{}
	for _, tag := range tags {
		got[tag.Key] = tag.Value
	}
	if len(got) != len(want) {
		return fmt.Errorf("tags %v, want %v", got, want)
	}
	for key, value := range want {
		if got[key] != value {
			return fmt.Errorf("tags %v, want %v", got, want)
		}
	}
	return nil
}
