using Meridian.Testing;
using Meridian.Silo;

namespace Meridian.Integration.Tests;

/// <summary>Every PostgreSQL-backed test class joins this collection: one shared server, a database per class or cluster.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Postgres";
}
