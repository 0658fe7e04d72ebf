package main

import (
	"fmt"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/jobs"
)

// uidTag is the tag by which the MLJob finds its job (job names are not unique).
const uidTag = "mlops.gitops.dev/uid"

func notebookTask(key string, dependsOn ...string) jobs.Task {
	task := jobs.Task{TaskKey: key, NotebookTask: &jobs.NotebookTask{NotebookPath: "/Repos/risk/" + key}}
	for _, upstream := range dependsOn {
		task.DependsOn = append(task.DependsOn, jobs.TaskDependency{TaskKey: upstream})
	}
	return task
}

func taskKeys(settings *jobs.JobSettings) []string {
	keys := []string{}
	if settings != nil {
		for _, task := range settings.Tasks {
			keys = append(keys, task.TaskKey)
		}
	}
	return keys
}

func (c *contract) job() {
	name := c.opts.prefix + "-job"
	uid := c.opts.prefix + "-uid"
	var jobID, runID int64

	c.check("mljob: create; get returns its settings, its uid tag and the server's defaults", func() error {
		created, err := c.w.Jobs.Create(c.ctx, jobs.CreateJob{
			Name:       name,
			Tags:       map[string]string{uidTag: uid},
			Tasks:      []jobs.Task{notebookTask("train")},
			Parameters: []jobs.JobParameterDefinition{{Name: "version", Default: "1"}},
		})
		if err != nil {
			return err
		}
		if created.JobId <= 0 {
			return fmt.Errorf("create answered job_id %d", created.JobId)
		}
		jobID = created.JobId
		job, err := c.w.Jobs.Get(c.ctx, jobs.GetJobRequest{JobId: jobID})
		if err != nil {
			return err
		}
		if job.JobId != jobID || job.CreatorUserName != c.opts.expectUser {
			return fmt.Errorf("get answered job_id %d creator %q, want %d %q", job.JobId, job.CreatorUserName, jobID, c.opts.expectUser)
		}
		settings := job.Settings
		if settings == nil || settings.Name != name || settings.Tags[uidTag] != uid || settings.MaxConcurrentRuns != 1 {
			return fmt.Errorf("get answered settings %+v, want name %q, tag %s=%s and max_concurrent_runs 1", settings, name, uidTag, uid)
		}
		keys := taskKeys(settings)
		return expect(len(keys) == 1 && keys[0] == "train", "tasks %v, want [train]", keys)
	})

	c.check("mljob: list by name with expand_tasks finds every job of that name, with its tasks", func() error {
		// Names are not unique: a create whose answer was lost leaves a twin that only its uid tells apart.
		twin, err := c.w.Jobs.Create(c.ctx, jobs.CreateJob{Name: name, Tags: map[string]string{uidTag: uid + "-twin"}})
		if err != nil {
			return err
		}
		listed, err := c.w.Jobs.ListAll(c.ctx, jobs.ListJobsRequest{Name: name, ExpandTasks: true, Limit: 100})
		if err != nil {
			return err
		}
		byUID := map[string]jobs.BaseJob{}
		for _, job := range listed {
			if job.Settings != nil {
				byUID[job.Settings.Tags[uidTag]] = job
			}
		}
		found, ok := byUID[uid]
		if len(listed) != 2 || !ok || found.JobId != jobID || byUID[uid+"-twin"].JobId != twin.JobId {
			return fmt.Errorf("list(name=%q) answered %d jobs %v, want jobs %d and %d", name, len(listed), byUID, jobID, twin.JobId)
		}
		keys := taskKeys(found.Settings)
		if len(keys) != 1 || keys[0] != "train" {
			return fmt.Errorf("listed tasks %v, want [train]", keys)
		}
		return c.w.Jobs.DeleteByJobId(c.ctx, twin.JobId)
	})

	c.check("mljob: reset replaces the settings", func() error {
		err := c.w.Jobs.Reset(c.ctx, jobs.ResetJob{JobId: jobID, NewSettings: jobs.JobSettings{
			Name:           name,
			Tags:           map[string]string{uidTag: uid},
			Tasks:          []jobs.Task{notebookTask("train", "prepare"), notebookTask("prepare")},
			Parameters:     []jobs.JobParameterDefinition{{Name: "version", Default: "2"}},
			TimeoutSeconds: 3600,
		}})
		if err != nil {
			return err
		}
		job, err := c.w.Jobs.Get(c.ctx, jobs.GetJobRequest{JobId: jobID})
		if err != nil {
			return err
		}
		keys := taskKeys(job.Settings)
		if len(keys) != 2 || job.Settings.TimeoutSeconds != 3600 {
			return fmt.Errorf("get after reset answered tasks %v timeout_seconds %d, want two tasks and 3600", keys, job.Settings.TimeoutSeconds)
		}
		params := job.Settings.Parameters
		return expect(len(params) == 1 && params[0].Default == "2", "parameters %+v after reset, want version=2", params)
	})

	c.check("mljob: run-now with an idempotency token (the same token, the same run); the SDK's waiter reaches TERMINATED", func() error {
		token := uid + "-gen-1"
		wait, err := c.w.Jobs.RunNow(c.ctx, jobs.RunNow{JobId: jobID, IdempotencyToken: token})
		if err != nil {
			return err
		}
		runID = wait.Response.RunId
		again, err := c.w.Jobs.RunNow(c.ctx, jobs.RunNow{JobId: jobID, IdempotencyToken: token})
		if err != nil {
			return err
		}
		if runID <= 0 || again.Response.RunId != runID {
			return fmt.Errorf("run-now answered run %d, then %d for the same token; want one run", runID, again.Response.RunId)
		}
		run, err := wait.GetWithTimeout(c.opts.wait)
		if err != nil {
			return err
		}
		return terminatedWithSuccess(run)
	})

	c.check("mljob: get the run", func() error {
		run, err := c.w.Jobs.GetRun(c.ctx, jobs.GetRunRequest{RunId: runID})
		if err != nil {
			return err
		}
		if run.RunId != runID || run.JobId != jobID || run.RunPageUrl == "" {
			return fmt.Errorf("get_run answered run %d of job %d, page %q; want run %d of job %d with a page", run.RunId, run.JobId, run.RunPageUrl, runID, jobID)
		}
		return terminatedWithSuccess(run)
	})

	c.check("mljob: delete; get and get_run of what is missing are NotFound", func() error {
		if err := c.w.Jobs.DeleteByJobId(c.ctx, jobID); err != nil {
			return err
		}
		_, err := c.w.Jobs.GetByJobId(c.ctx, jobID)
		if err := expectError(err, databricks.ErrNotFound, "jobs.get after delete"); err != nil {
			return err
		}
		_, err = c.w.Jobs.GetRun(c.ctx, jobs.GetRunRequest{RunId: runID + 1_000_000})
		return expectError(err, databricks.ErrNotFound, "jobs.get_run of a run that never was")
	})
}

func terminatedWithSuccess(run *jobs.Run) error {
	state := run.State
	if state == nil || state.LifeCycleState != jobs.RunLifeCycleStateTerminated || state.ResultState != jobs.RunResultStateSuccess {
		return fmt.Errorf("run state %+v, want TERMINATED with SUCCESS", state)
	}
	return nil
}
