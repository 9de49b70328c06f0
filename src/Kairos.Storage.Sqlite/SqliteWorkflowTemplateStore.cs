using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>Workflow templates on SQLite: one row each, the steps a JSON document; changes through the single writer.</summary>
internal sealed class SqliteWorkflowTemplateStore(SqliteStore store) : IWorkflowTemplateStore
{
    private const string Columns = WorkflowTemplateRows.Columns;

    /// <summary>The template of that name, read on the given connection (a firing reads it inside its write).</summary>
    internal static WorkflowTemplate? Find(SqliteConnection c, string org, string name)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM workflow_templates WHERE organization_id = $org AND name = $name";
        using var r = cmd.Set("$org", org).Set("$name", name).ExecuteReader();
        return r.Read() ? WorkflowTemplateRows.Read(r) : null;
    }

    public Task<(WorkflowTemplate Template, bool Created)> PutAsync(PutWorkflowTemplateParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Put(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static (WorkflowTemplate Template, bool Created) Put(WriteContext ctx, PutWorkflowTemplateParams p)
    {
        var org = p.OrganizationId.ToString();
        var now = Ms(ctx.Now);
        var existed = Find(ctx.Connection, org, p.Name) is not null;
        ctx.Cmd("INSERT INTO workflow_templates (id, organization_id, name, steps, managed_by, created_at, updated_at) " +
                "VALUES ($id, $org, $name, $steps, $managed_by, $now, $now) " +
                "ON CONFLICT (organization_id, name) DO UPDATE SET steps = excluded.steps, managed_by = excluded.managed_by, updated_at = excluded.updated_at")
            .Set("$id", Kairos.Core.Ids.New(ctx.Time).ToString()).Set("$org", org).Set("$name", p.Name).Set("$steps", WorkflowTemplate.StepsJson(p.Steps))
            .Set("$managed_by", p.ManagedBy).Set("$now", now).ExecuteNonQuery();
        return (Find(ctx.Connection, org, p.Name)!, !existed);
    }

    public Task<WorkflowTemplate?> GetAsync(WorkflowTemplateParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c => Find(c, p.OrganizationId.ToString(), p.Name), cancellationToken);

    public Task<Page<WorkflowTemplate>> ListAsync(ListWorkflowTemplatesParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        return store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM workflow_templates WHERE organization_id = $org AND name > $after ORDER BY name LIMIT $n";
            cmd.Set("$org", p.OrganizationId.ToString()).Set("$after", after ?? "").Set("$n", p.Limit + 1);
            var items = new List<WorkflowTemplate>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) items.Add(WorkflowTemplateRows.Read(r));
            return ScheduleCursor.Page(items, p.Limit, t => t.Name);
        }, cancellationToken);
    }

    public Task<DeleteWorkflowTemplateResult> DeleteAsync(WorkflowTemplateParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Delete(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static DeleteWorkflowTemplateResult Delete(WriteContext ctx, WorkflowTemplateParams p)
    {
        var org = p.OrganizationId.ToString();
        if (Find(ctx.Connection, org, p.Name) is null) return new DeleteWorkflowTemplateResult(false, []);
        var users = new List<string>();
        using (var r = ctx.Cmd("SELECT name FROM schedules WHERE organization_id = $org AND template_kind = 'workflow' AND template = $template ORDER BY name")
                   .Set("$org", org).Set("$template", WorkflowTemplateRows.ScheduleTemplateJson(p.Name)).ExecuteReader())
        {
            while (r.Read()) users.Add(r.GetString(0));
        }
        if (users.Count > 0) return new DeleteWorkflowTemplateResult(true, users);
        ctx.Cmd("DELETE FROM workflow_templates WHERE organization_id = $org AND name = $name").Set("$org", org).Set("$name", p.Name).ExecuteNonQuery();
        return new DeleteWorkflowTemplateResult(true, []);
    }
}
