package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// mlflowUC is where MLflow-on-Unity-Catalog keeps tags; the SDK has no typed call for it, so the
// controller (and this program) call it through the SDK's authenticated raw client.
const mlflowUC = "/api/2.0/mlflow/unity-catalog"

type mlflowTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type mlflowModel struct {
	RegisteredModel struct {
		Name        string      `json:"name"`
		Description string      `json:"description"`
		Tags        []mlflowTag `json:"tags"`
		Aliases     []struct {
			Alias   string `json:"alias"`
			Version string `json:"version"`
		} `json:"aliases"`
	} `json:"registered_model"`
}

type mlflowVersion struct {
	ModelVersion struct {
		Version string      `json:"version"`
		Status  string      `json:"status"`
		Tags    []mlflowTag `json:"tags"`
	} `json:"model_version"`
}

var jsonHeaders = map[string]string{"Accept": "application/json", "Content-Type": "application/json"}

func (c *contract) mlflow(method, path string, request, response any) error {
	return c.raw.Do(c.ctx, method, mlflowUC+path, jsonHeaders, nil, request, response)
}

// mlflowModel reads the model as the MLModel reconcile observes it: tags, aliases and comment at once.
func (c *contract) mlflowModel() (*mlflowModel, error) {
	var got mlflowModel
	if err := c.mlflow(http.MethodGet, "/registered-models/get", map[string]string{"name": c.opts.model}, &got); err != nil {
		return nil, err
	}
	if got.RegisteredModel.Name != c.opts.model {
		return nil, fmt.Errorf("registered_model.name is %q, want %q", got.RegisteredModel.Name, c.opts.model)
	}
	return &got, nil
}

func tagValue(tags []mlflowTag, key string) (string, bool) {
	for _, tag := range tags {
		if tag.Key == key {
			return tag.Value, true
		}
	}
	return "", false
}

func (c *contract) registeredModel() {
	model := c.opts.model
	c.check("mlmodel: read the model on the MLflow-on-UC endpoint", func() error {
		_, err := c.mlflowModel()
		return err
	})

	c.check("mlmodel: list versions (1 and 2, READY)", func() error {
		versions, err := c.w.ModelVersions.ListAll(c.ctx, catalog.ListModelVersionsRequest{FullName: model})
		if err != nil {
			return err
		}
		ready := map[int]bool{}
		for _, v := range versions {
			ready[v.Version] = v.Status == catalog.ModelVersionInfoStatusReady
		}
		return expect(ready[1] && ready[2], "versions %+v, want 1 and 2 READY", versions)
	})

	c.check("mlmodel: get a version; a missing one is NotFound", func() error {
		v, err := c.w.ModelVersions.Get(c.ctx, catalog.GetModelVersionRequest{FullName: model, Version: 2})
		if err != nil {
			return err
		}
		if err := expect(v.Version == 2 && v.Status == catalog.ModelVersionInfoStatusReady,
			"version %d status %q, want 2 READY", v.Version, v.Status); err != nil {
			return err
		}
		_, err = c.w.ModelVersions.Get(c.ctx, catalog.GetModelVersionRequest{FullName: model, Version: 99})
		return expectError(err, databricks.ErrNotFound, "model_versions.get of version 99")
	})

	c.check("mlmodel: set and delete a model tag; deleting it again is NotFound", func() error {
		tag := map[string]string{"name": model, "key": "team", "value": "risk"}
		if err := c.mlflow(http.MethodPost, "/registered-models/set-tag", tag, nil); err != nil {
			return err
		}
		got, err := c.mlflowModel()
		if err != nil {
			return err
		}
		if value, ok := tagValue(got.RegisteredModel.Tags, "team"); !ok || value != "risk" {
			return fmt.Errorf("tags %+v after set-tag, want team=risk", got.RegisteredModel.Tags)
		}
		key := map[string]string{"name": model, "key": "team"}
		if err := c.mlflow(http.MethodDelete, "/registered-models/delete-tag", key, nil); err != nil {
			return err
		}
		if got, err = c.mlflowModel(); err != nil {
			return err
		}
		if _, ok := tagValue(got.RegisteredModel.Tags, "team"); ok {
			return fmt.Errorf("tags %+v after delete-tag, want no team", got.RegisteredModel.Tags)
		}
		err = c.mlflow(http.MethodDelete, "/registered-models/delete-tag", key, nil)
		return expectError(err, databricks.ErrNotFound, "delete-tag of a missing tag")
	})

	c.check("mlmodel: tag a version", func() error {
		tag := map[string]string{"name": model, "version": "1", "key": "fingerprint", "value": "f-1"}
		if err := c.mlflow(http.MethodPost, "/model-versions/set-tag", tag, nil); err != nil {
			return err
		}
		var got mlflowVersion
		if err := c.mlflow(http.MethodGet, "/model-versions/get", map[string]string{"name": model, "version": "1"}, &got); err != nil {
			return err
		}
		value, ok := tagValue(got.ModelVersion.Tags, "fingerprint")
		return expect(ok && value == "f-1", "version tags %+v, want fingerprint=f-1", got.ModelVersion.Tags)
	})

	c.check("mlmodel: set, move and delete an alias; deleting it again is NotFound", func() error {
		return c.aliasLifecycle()
	})

	c.check("mlmodel: create a model, a duplicate is ResourceAlreadyExists, update its comment, delete it", func() error {
		return c.modelLifecycle()
	})
}

func (c *contract) aliasLifecycle() error {
	model := c.opts.model
	for _, version := range []int{1, 2} {
		set, err := c.w.RegisteredModels.SetAlias(c.ctx, catalog.SetRegisteredModelAliasRequest{
			FullName: model, Alias: "champion", VersionNum: version,
		})
		if err != nil {
			return err
		}
		if set.AliasName != "champion" || set.VersionNum != version {
			return fmt.Errorf("set_alias answered %+v, want champion -> %d", set, version)
		}
		byAlias, err := c.w.ModelVersions.GetByAlias(c.ctx, catalog.GetByAliasRequest{FullName: model, Alias: "champion"})
		if err != nil {
			return err
		}
		if byAlias.Version != version {
			return fmt.Errorf("get_by_alias(champion) is version %d, want %d", byAlias.Version, version)
		}
	}
	info, err := c.w.RegisteredModels.Get(c.ctx, catalog.GetRegisteredModelRequest{FullName: model, IncludeAliases: true})
	if err != nil {
		return err
	}
	if len(info.Aliases) != 1 || info.Aliases[0].AliasName != "champion" || info.Aliases[0].VersionNum != 2 {
		return fmt.Errorf("registered_models.get aliases %+v, want champion -> 2", info.Aliases)
	}
	observed, err := c.mlflowModel()
	if err != nil {
		return err
	}
	aliases := observed.RegisteredModel.Aliases
	if len(aliases) != 1 || aliases[0].Alias != "champion" || aliases[0].Version != "2" {
		return fmt.Errorf("MLflow-on-UC aliases %+v, want champion -> 2", aliases)
	}
	if err := c.w.RegisteredModels.DeleteAlias(c.ctx, catalog.DeleteAliasRequest{FullName: model, Alias: "champion"}); err != nil {
		return err
	}
	if info, err = c.w.RegisteredModels.Get(c.ctx, catalog.GetRegisteredModelRequest{FullName: model, IncludeAliases: true}); err != nil {
		return err
	}
	if len(info.Aliases) != 0 {
		return fmt.Errorf("aliases %+v after delete_alias, want none", info.Aliases)
	}
	err = c.w.RegisteredModels.DeleteAlias(c.ctx, catalog.DeleteAliasRequest{FullName: model, Alias: "champion"})
	return expectError(err, databricks.ErrNotFound, "delete_alias of a missing alias")
}

func (c *contract) modelLifecycle() error {
	catalogName, schemaName := c.opts.modelCatalog, c.opts.modelSchema
	name := strings.ReplaceAll(c.opts.prefix, "-", "_") + "_created"
	fullName := strings.Join([]string{catalogName, schemaName, name}, ".")
	create := catalog.CreateRegisteredModelRequest{
		CatalogName: catalogName, SchemaName: schemaName, Name: name, Comment: "made by the Go contract",
	}
	created, err := c.w.RegisteredModels.Create(c.ctx, create)
	if err != nil {
		return err
	}
	if created.FullName != fullName || created.Comment != create.Comment {
		return fmt.Errorf("create answered full_name %q comment %q, want %q %q", created.FullName, created.Comment, fullName, create.Comment)
	}
	_, err = c.w.RegisteredModels.Create(c.ctx, create)
	if err := expectError(err, databricks.ErrResourceAlreadyExists, "a second registered_models.create"); err != nil {
		return err
	}
	updated, err := c.w.RegisteredModels.Update(c.ctx, catalog.UpdateRegisteredModelRequest{FullName: fullName, Comment: "changed"})
	if err != nil {
		return err
	}
	if updated.Comment != "changed" {
		return fmt.Errorf("update answered comment %q, want %q", updated.Comment, "changed")
	}
	if err := c.w.RegisteredModels.DeleteByFullName(c.ctx, fullName); err != nil {
		return err
	}
	_, err = c.w.RegisteredModels.GetByFullName(c.ctx, fullName)
	return expectError(err, databricks.ErrNotFound, "registered_models.get after delete")
}
