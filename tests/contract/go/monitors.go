package main

import (
	"fmt"
	"strings"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/retries"
	"github.com/databricks/databricks-sdk-go/service/dataquality"
)

// objectType is what the ModelMonitor monitors: a table, addressed by its id.
const objectType = "table"

func (c *contract) monitor() {
	var tableID, schemaID string

	c.check("modelmonitor: tables.get and schemas.get give the ids; a missing table is NotFound", func() error {
		table, err := c.w.Tables.GetByFullName(c.ctx, c.opts.table)
		if err != nil {
			return err
		}
		schema, err := c.w.Schemas.GetByFullName(c.ctx, c.opts.outputSchema)
		if err != nil {
			return err
		}
		tableID, schemaID = table.TableId, schema.SchemaId
		if tableID == "" || schemaID == "" {
			return fmt.Errorf("table_id %q, schema_id %q: want both", tableID, schemaID)
		}
		_, err = c.w.Tables.GetByFullName(c.ctx, c.opts.table+"_missing")
		return expectError(err, databricks.ErrNotFound, "tables.get of a missing table")
	})

	c.check("modelmonitor: get_monitor before create is NotFound", func() error {
		_, err := c.w.DataQuality.GetMonitor(c.ctx, dataquality.GetMonitorRequest{ObjectType: objectType, ObjectId: tableID})
		return expectError(err, databricks.ErrNotFound, "get_monitor of an unmonitored table")
	})

	c.check("modelmonitor: create an inference-log monitor; it goes from PENDING to ACTIVE", func() error {
		created, err := c.w.DataQuality.CreateMonitor(c.ctx, dataquality.CreateMonitorRequest{Monitor: dataquality.Monitor{
			ObjectType: objectType,
			ObjectId:   tableID,
			DataProfilingConfig: &dataquality.DataProfilingConfig{
				OutputSchemaId: schemaID,
				InferenceLog: &dataquality.InferenceLogConfig{
					ProblemType:      dataquality.InferenceProblemTypeInferenceProblemTypeClassification,
					PredictionColumn: "prediction",
					LabelColumn:      "label",
					ModelIdColumn:    "model_id",
					TimestampColumn:  "timestamp",
					Granularities:    []dataquality.AggregationGranularity{dataquality.AggregationGranularityAggregationGranularity1Day},
				},
				Schedule: &dataquality.CronSchedule{QuartzCronExpression: "0 0 * * * ?", TimezoneId: "UTC"},
			},
		}})
		if err != nil {
			return err
		}
		profiling := created.DataProfilingConfig
		if created.ObjectId != tableID || profiling == nil || profiling.MonitoredTableName != c.opts.table {
			return fmt.Errorf("create_monitor answered object_id %q config %+v, want table %s", created.ObjectId, profiling, c.opts.table)
		}
		active, err := c.monitorActive(tableID)
		if err != nil {
			return err
		}
		return expect(active.DataProfilingConfig.DashboardId != "", "an ACTIVE monitor without a dashboard_id")
	})

	c.check("modelmonitor: update the schedule and slicing by update_mask", func() error {
		mask := []string{"schedule.quartz_cron_expression", "schedule.timezone_id", "slicing_exprs"}
		for i, path := range mask {
			mask[i] = "data_profiling_config." + path
		}
		updated, err := c.w.DataQuality.UpdateMonitor(c.ctx, dataquality.UpdateMonitorRequest{
			ObjectType: objectType,
			ObjectId:   tableID,
			UpdateMask: strings.Join(mask, ","),
			Monitor: dataquality.Monitor{
				ObjectType: objectType,
				ObjectId:   tableID,
				DataProfilingConfig: &dataquality.DataProfilingConfig{
					OutputSchemaId: schemaID,
					Schedule:       &dataquality.CronSchedule{QuartzCronExpression: "0 30 2 * * ?", TimezoneId: "Europe/Paris"},
					SlicingExprs:   []string{"model_id"},
				},
			},
		})
		if err != nil {
			return err
		}
		profiling := updated.DataProfilingConfig
		if profiling == nil || profiling.Schedule == nil || profiling.Schedule.TimezoneId != "Europe/Paris" ||
			len(profiling.SlicingExprs) != 1 || profiling.MonitorVersion != 2 {
			return fmt.Errorf("update_monitor answered %+v, want the new schedule, slicing [model_id] and monitor_version 2", profiling)
		}
		return expect(profiling.InferenceLog != nil && profiling.InferenceLog.PredictionColumn == "prediction",
			"update_monitor lost the inference_log outside its mask: %+v", profiling.InferenceLog)
	})

	c.check("modelmonitor: list refreshes (none), start one, list it until it succeeds", func() error {
		return c.refreshLifecycle(tableID)
	})

	c.check("modelmonitor: delete; get_monitor after is NotFound", func() error {
		err := c.w.DataQuality.DeleteMonitor(c.ctx, dataquality.DeleteMonitorRequest{ObjectType: objectType, ObjectId: tableID})
		if err != nil {
			return err
		}
		_, err = c.w.DataQuality.GetMonitor(c.ctx, dataquality.GetMonitorRequest{ObjectType: objectType, ObjectId: tableID})
		return expectError(err, databricks.ErrNotFound, "get_monitor after delete")
	})
}

// monitorActive polls with the SDK's own poller: the Data Quality API has no generated waiter.
func (c *contract) monitorActive(tableID string) (*dataquality.Monitor, error) {
	return retries.Poll(c.ctx, c.opts.wait, func() (*dataquality.Monitor, *retries.Err) {
		monitor, err := c.w.DataQuality.GetMonitor(c.ctx, dataquality.GetMonitorRequest{ObjectType: objectType, ObjectId: tableID})
		if err != nil {
			return nil, retries.Halt(err)
		}
		profiling := monitor.DataProfilingConfig
		if profiling == nil {
			return nil, retries.Halt(fmt.Errorf("get_monitor answered no data_profiling_config"))
		}
		switch profiling.Status {
		case dataquality.DataProfilingStatusDataProfilingStatusActive:
			return monitor, nil
		case dataquality.DataProfilingStatusDataProfilingStatusPending, "":
			return nil, retries.Continues(fmt.Sprintf("status %q", profiling.Status))
		default:
			return nil, retries.Halt(fmt.Errorf("status %s: %s", profiling.Status, profiling.LatestMonitorFailureMessage))
		}
	})
}

func (c *contract) refreshLifecycle(tableID string) error {
	listRefreshes := func() ([]dataquality.Refresh, error) {
		return c.w.DataQuality.ListRefreshAll(c.ctx, dataquality.ListRefreshRequest{ObjectType: objectType, ObjectId: tableID, PageSize: 25})
	}
	before, err := listRefreshes()
	if err != nil {
		return err
	}
	if len(before) != 0 {
		return fmt.Errorf("list_refresh answered %+v before any refresh, want none", before)
	}
	started, err := c.w.DataQuality.CreateRefresh(c.ctx, dataquality.CreateRefreshRequest{
		ObjectType: objectType,
		ObjectId:   tableID,
		Refresh:    dataquality.Refresh{ObjectType: objectType, ObjectId: tableID},
	})
	if err != nil {
		return err
	}
	if started.RefreshId == 0 {
		return fmt.Errorf("create_refresh answered no refresh_id: %+v", started)
	}
	_, err = retries.Poll(c.ctx, c.opts.wait, func() (*dataquality.Refresh, *retries.Err) {
		refreshes, err := listRefreshes()
		if err != nil {
			return nil, retries.Halt(err)
		}
		if len(refreshes) != 1 || refreshes[0].RefreshId != started.RefreshId {
			return nil, retries.Halt(fmt.Errorf("list_refresh answered %+v, want refresh %d alone", refreshes, started.RefreshId))
		}
		switch state := refreshes[0].State; state {
		case dataquality.RefreshStateMonitorRefreshStateSuccess:
			return &refreshes[0], nil
		case dataquality.RefreshStateMonitorRefreshStatePending, dataquality.RefreshStateMonitorRefreshStateRunning:
			return nil, retries.Continues(fmt.Sprintf("refresh %s", state))
		default:
			return nil, retries.Halt(fmt.Errorf("refresh %s: %s", state, refreshes[0].Message))
		}
	})
	return err
}
