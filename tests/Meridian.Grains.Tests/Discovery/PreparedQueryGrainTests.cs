using System.Collections.Immutable;

namespace Meridian.Grains.Tests.Discovery;

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class PreparedQueryGrainTests(ClusterFixture fx)
{
    private IPreparedQueryGrain Queries => fx.Client.GetGrain<IPreparedQueryGrain>(fx.PrimaryDatacenter);

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static PreparedQueryDto Named(string name, string service = "db") =>
        new() { Name = name, Service = new ServiceQueryDto { Service = service } };

    [Fact]
    public async Task Create_ThenGetListUpdateDelete_IndexesMove()
    {
        var name = Unique("geo-db");
        var id = await Queries.CreateAsync(Named(name) with
        {
            Token = "captured-token",
            DNS = new QueryDnsDto { TTL = "10s" },
            Service = new ServiceQueryDto { Service = "db", OnlyPassing = true, Tags = ["primary", "!canary"], Failover = new() { NearestN = 2, Datacenters = ["dc2", "dc3"] } },
        });
        Assert.True(Guid.TryParseExact(id, "D", out _));

        var got = await Queries.GetAsync(id);
        Assert.Equal((id, name, "captured-token", "10s", 2), (got.ID, got.Name, got.Token, got.DNS.TTL, got.Service.Failover.NearestN));
        Assert.Equal(["dc2", "dc3"], got.Service.Failover.Datacenters.ToArray());
        Assert.Equal(got.CreateIndex, got.ModifyIndex);
        Assert.Contains((await Queries.ListAsync()).Queries, q => q.ID == id);

        var updateIndex = await Queries.UpdateAsync(id, Named(name, "db2") with { ID = "ignored" });
        var updated = await Queries.GetAsync(id);
        Assert.Equal(("db2", got.CreateIndex, updateIndex), (updated.Service.Service, updated.CreateIndex, updated.ModifyIndex));
        Assert.True(updateIndex > got.ModifyIndex);

        var deleteIndex = await Queries.DeleteAsync(id);
        Assert.True(deleteIndex > updateIndex);
        Assert.Equal("Query not found", (await Assert.ThrowsAsync<MeridianNotFoundException>(() => Queries.GetAsync(id))).Message);
        Assert.DoesNotContain((await Queries.ListAsync()).Queries, q => q.ID == id);
    }

    [Fact]
    public async Task Create_WithId_ConsulText()
    {
        var e = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.CreateAsync(Named(Unique("q")) with { ID = Guid.NewGuid().ToString() }));
        Assert.Contains(e.Problems, p => p.Field == "ID" && p.Message == "ID must be empty when creating a new prepared query");
    }

    [Fact]
    public async Task Create_Invalid_EveryProblemWithConsulText()
    {
        var e = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.CreateAsync(new PreparedQueryDto
        {
            Token = "<hidden>",
            Service = new ServiceQueryDto { Failover = new() { NearestN = -1 } },
            DNS = new QueryDnsDto { TTL = "soon" },
        }));
        Assert.Equal(
        [
            "Invalid prepared query: Must be bound to a session",
            "Invalid prepared query: Bad Token '<hidden>', it looks like a query definition with a redacted token was submitted",
            "Invalid prepared query: Must provide a Service name to query",
            "Invalid prepared query: Bad NearestN '-1', must be >= 0",
            "Invalid prepared query: Bad DNS TTL 'soon': time: invalid duration \"soon\"",
        ], e.Problems.Select(p => p.Message));
    }

    [Fact]
    public async Task Create_StoreConflicts_ConsulTexts()
    {
        var name = Unique("alias");
        var id = await Queries.CreateAsync(Named(name));
        var byName = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.CreateAsync(Named(name.ToUpperInvariant())));
        Assert.Contains(byName.Problems, p => p.Message == $"name '{name.ToUpperInvariant()}' aliases an existing query name");
        var byId = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.CreateAsync(Named(id)));
        Assert.Contains(byId.Problems, p => p.Message == $"name '{id}' aliases an existing query ID");
        var session = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.CreateAsync(Named(Unique("s")) with { Session = "adf4238a-882b-9ddc-4a9d-5b6758e4159e" }));
        Assert.Contains(session.Problems, p => p.Message == "invalid session \"adf4238a-882b-9ddc-4a9d-5b6758e4159e\"");
        var template = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.CreateAsync(Named(Unique("t")) with { Template = new() { Type = "prefix" } }));
        Assert.Contains(template.Problems, p => p.Message == "failed compiling template: Bad Template.Type 'prefix'");
    }

    [Fact]
    public async Task EmptyNameTemplate_OnlyOne_CatchesEverything_NotById()
    {
        var id = await Queries.CreateAsync(new PreparedQueryDto
        {
            Template = new() { Type = "name_prefix_match" },
            Service = new ServiceQueryDto { Service = "${name.full}" },
        });
        try
        {
            var second = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.CreateAsync(new PreparedQueryDto
            {
                Template = new() { Type = "name_prefix_match" },
                Service = new ServiceQueryDto { Service = "x" },
            }));
            Assert.Contains(second.Problems, p => p.Message == "a query template with an empty name already exists");
            var any = Unique("anything");
            Assert.Equal((id, any), ((await Queries.ExplainAsync(any)).ID, (await Queries.ExplainAsync(any)).Service.Service));
            var byId = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.ExplainAsync(id));
            Assert.Contains(byId.Problems, p => p.Message == "prepared query templates can only be resolved up by name, not by ID");
        }
        finally
        {
            await Queries.DeleteAsync(id);
        }
    }

    [Fact]
    public async Task Explain_Template_RenderedWithCaptures()
    {
        var prefix = Unique("geo") + "-";
        await Queries.CreateAsync(new PreparedQueryDto
        {
            Name = prefix,
            Template = new() { Type = "name_prefix_match", Regexp = "^" + prefix + "(.*?)(?:-(.*))?$", RemoveEmptyTags = true },
            Service = new ServiceQueryDto { Service = "${match(1)}", Tags = ["${match(2)}"] },
        });
        var eu = await Queries.ExplainAsync(prefix + "db-eu");
        Assert.Equal("db", eu.Service.Service);
        Assert.Equal(["eu"], eu.Service.Tags.ToArray());
        var plain = await Queries.ExplainAsync(prefix + "db");
        Assert.Equal(("db", 0), (plain.Service.Service, plain.Service.Tags.Length));
    }

    [Fact]
    public async Task Explain_Unknown_QueryNotFound() =>
        Assert.Equal("Query not found", (await Assert.ThrowsAsync<MeridianNotFoundException>(() => Queries.ExplainAsync(Unique("nope")))).Message);

    [Theory]
    [InlineData("update")]
    [InlineData("delete")]
    public async Task UpdateOrDelete_Unknown_ConsulText(string operation)
    {
        var id = Guid.NewGuid().ToString();
        var e = await Assert.ThrowsAsync<MeridianNotFoundException>(() => operation == "update"
            ? Queries.UpdateAsync(id, Named(Unique("q")))
            : Queries.DeleteAsync(id));
        Assert.Equal($"Cannot modify non-existent prepared query: '{id}'", e.Message);
    }

    [Fact]
    public async Task Update_ToAnotherQuerysName_Refused()
    {
        var a = Unique("a");
        await Queries.CreateAsync(Named(a));
        var b = await Queries.CreateAsync(Named(Unique("b")));
        var e = await Assert.ThrowsAsync<MeridianValidationException>(() => Queries.UpdateAsync(b, Named(a)));
        Assert.Contains(e.Problems, p => p.Message == $"name '{a}' aliases an existing query name");
    }
}
