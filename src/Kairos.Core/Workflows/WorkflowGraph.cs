namespace Kairos.Core.Workflows;

/// <summary>
/// The checks of a workflow's graph before anything is stored: step ids unique and well-formed, every parent known,
/// no cycle. Errors name the field (<c>steps[2].depends_on</c>) and the steps involved.
/// </summary>
public static class WorkflowGraph
{
    /// <summary>The errors of a definition, by field (empty when it is a valid DAG).</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(IReadOnlyList<WorkflowStepDefinition> steps)
    {
        var errors = new List<(string, string)>();
        if (steps.Count == 0)
        {
            errors.Add(("steps", "must hold at least one step"));
            return errors;
        }
        if (steps.Count > WorkflowRules.MaxSteps)
        {
            errors.Add(("steps", $"at most {WorkflowRules.MaxSteps} steps"));
            return errors;
        }
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var id = steps[i].Id;
            if (!IsStepId(id))
            {
                errors.Add(($"steps[{i}].id", "must be 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit"));
                continue;
            }
            if (!index.TryAdd(id, i)) errors.Add(($"steps[{i}].id", $"duplicate step id \"{id}\" (also steps[{index[id]}])"));
        }
        for (var i = 0; i < steps.Count; i++)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var parent in steps[i].DependsOn)
            {
                if (parent == steps[i].Id) errors.Add(($"steps[{i}].depends_on", $"step \"{parent}\" depends on itself (a cycle)"));
                else if (!index.ContainsKey(parent)) errors.Add(($"steps[{i}].depends_on", $"step \"{steps[i].Id}\" depends on unknown step \"{parent}\""));
                else if (!seen.Add(parent)) errors.Add(($"steps[{i}].depends_on", $"names step \"{parent}\" twice"));
            }
        }
        if (errors.Count > 0) return errors;
        if (FindCycle(steps, index) is { } cycle)
        {
            errors.Add(("steps", $"the steps form a cycle: {string.Join(" → ", cycle)}"));
        }
        return errors;
    }

    public static bool IsStepId(string? id) =>
        id is { Length: > 0 and <= 100 } && char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>A cycle as the list of its steps, the first repeated at the end (<c>a → b → a</c>); null in a DAG.</summary>
    private static List<string>? FindCycle(IReadOnlyList<WorkflowStepDefinition> steps, Dictionary<string, int> index)
    {
        // Iterative depth-first search over parent edges: 0 unvisited, 1 on the stack, 2 done.
        var color = new byte[steps.Count];
        var parentOf = new int[steps.Count];
        for (var start = 0; start < steps.Count; start++)
        {
            if (color[start] != 0) continue;
            var stack = new Stack<(int Node, int Next)>();
            stack.Push((start, 0));
            color[start] = 1;
            parentOf[start] = -1;
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                var deps = steps[node].DependsOn;
                if (next < deps.Count)
                {
                    stack.Push((node, next + 1));
                    var to = index[deps[next]];
                    if (color[to] == 1)
                    {
                        // node depends on `to`, which is on the stack: the cycle runs to → ... → node → to.
                        var path = new List<string> { steps[to].Id };
                        var chain = new List<string>();
                        for (var n = node; n != to && n >= 0; n = parentOf[n]) chain.Add(steps[n].Id);
                        chain.Reverse();
                        path.AddRange(chain);
                        path.Add(steps[to].Id);
                        // Show it in the direction the work flows: parent → child.
                        path.Reverse();
                        return path;
                    }
                    if (color[to] == 0)
                    {
                        color[to] = 1;
                        parentOf[to] = node;
                        stack.Push((to, 0));
                    }
                    continue;
                }
                color[node] = 2;
            }
        }
        return null;
    }

    /// <summary>The steps' indexes in an order where every parent comes before its children (stable otherwise).</summary>
    public static int[] TopologicalOrder(IReadOnlyList<WorkflowStepDefinition> steps)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++) index[steps[i].Id] = i;
        var waiting = new int[steps.Count];
        var children = new List<int>[steps.Count];
        for (var i = 0; i < steps.Count; i++) children[i] = [];
        for (var i = 0; i < steps.Count; i++)
        {
            waiting[i] = steps[i].DependsOn.Count;
            foreach (var p in steps[i].DependsOn) children[index[p]].Add(i);
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < steps.Count; i++) if (waiting[i] == 0) ready.Enqueue(i, i);
        var order = new List<int>(steps.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(i);
            foreach (var c in children[i]) if (--waiting[c] == 0) ready.Enqueue(c, c);
        }
        if (order.Count != steps.Count) throw new ArgumentException("The steps form a cycle.", nameof(steps));
        return [.. order];
    }
}
