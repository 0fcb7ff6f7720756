using System.Security.Cryptography;
using System.Text;
using Meridian.Grains;
using Meridian.Grains.Certificates;
using Meridian.Integration.Tests.Processes;
using Meridian.Pki;
using Meridian.Testing;
using Npgsql;

namespace Meridian.Integration.Tests;

/// <summary>
/// CA private keys at rest in a real PostgreSQL datacenter: a silo process with a key-encryption key initialises,
/// issues, rotates; every row of every table is then searched for the keys, and the silo restarts on the sealed keys.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CaKeysAtRestTests(PostgresFixture fx)
{
    [Fact]
    public async Task SealedCaKeys_EveryTableDumped_HoldsNeitherPemNorRawKeyBytes_AndRestartSignsWithTheSameRoot()
    {
        var db = await fx.CreateDatabaseAsync();
        var (kekFile, kek) = TestKeyEncryptionKey.Write(KeySealers.NewKeyEncryptionKey());
        var environment = new Dictionary<string, string> { ["Meridian__Ca__KeyEncryptionKeyFile"] = kekFile };
        var ports = FreePorts.Take(3);
        var keys = new Dictionary<string, KeyMaterial>();
        var dumps = new List<Dump>();
        CaRootListDto rotated;
        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2], "dc1", "dc1", null, environment))
        await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
        {
            await sdk.Client.GetCertificateAsync("web");
            dumps.Add(await DumpAsync(db));
            Collect(dumps[^1], kek, keys);
            rotated = await sdk.Client.RotateCaAsync();
            // One silo: the rotation installs the new signer in it at once.
            var afterRotation = await sdk.Client.GetCertificateAsync("api");
            Assert.Equal(rotated.ActiveRootID, afterRotation.RootID);
            dumps.Add(await DumpAsync(db));
            Collect(dumps[^1], kek, keys);
        }

        // Two roots made two keys, each seen sealed in the database while it signed.
        Assert.Equal(2, keys.Count);
        foreach (var dump in dumps)
        {
            Assert.True(dump.Tables.Count >= 5, $"dumped only {string.Join(", ", dump.Tables)}");
            Assert.DoesNotContain("PRIVATE KEY", dump.Text, StringComparison.Ordinal);
            foreach (var (name, key) in keys)
            {
                foreach (var (form, bytes) in key.Forms)
                {
                    Assert.DoesNotContain(Convert.ToHexString(bytes), dump.Text, StringComparison.OrdinalIgnoreCase);
                    Assert.DoesNotContain(Convert.ToBase64String(bytes), dump.Text, StringComparison.Ordinal);
                    Assert.False(dump.Binaries.Any(b => b.AsSpan().IndexOf(bytes) >= 0), $"the {form} of key {name} is stored in a bytea value");
                }
            }
        }

        // Restarted on the same database and key: the sealed key opens and the same root signs.
        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2], "dc1", "dc1", null, environment))
        await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
        {
            var leaf = await sdk.Client.GetCertificateAsync($"after-{Guid.NewGuid():N}");
            Assert.Equal(rotated.ActiveRootID, leaf.RootID);
            var root = Assert.Single(rotated.Roots, r => r.ID == rotated.ActiveRootID);
            await OpenSsl.AssertChainsToAsync(leaf.CertPEM, root.RootCert, "leaf after the restart");
        }
    }

    private sealed record Dump(IReadOnlyList<string> Tables, string Text, IReadOnlyList<byte[]> Binaries, IReadOnlyList<byte[]> CaKeyPayloads);

    /// <summary>A CA key in every form it could be stored in: PKCS#8 and SEC1 DER, and the raw private scalar.</summary>
    private sealed record KeyMaterial(IReadOnlyList<(string Form, byte[] Bytes)> Forms);

    // Every row of every table of the database: text as is, bytea as hex and base64 (and kept raw for byte searches).
    private static async Task<Dump> DumpAsync(string db)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        List<string> tables = [];
        await using (var list = new NpgsqlCommand(
            "SELECT table_schema || '.' || quote_ident(table_name) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        var text = new StringBuilder();
        List<byte[]> binaries = [], caKeys = [];
        foreach (var table in tables)
        {
            await using var select = new NpgsqlCommand($"SELECT * FROM {table}", connection);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.Append(table).Append(':');
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    if (value is byte[] bytes)
                    {
                        binaries.Add(bytes);
                        text.Append(' ').Append(Convert.ToHexString(bytes)).Append(' ').Append(Convert.ToBase64String(bytes))
                            .Append(' ').Append(Encoding.Latin1.GetString(bytes));
                        if (reader.GetName(i).Equals("payloadbinary", StringComparison.OrdinalIgnoreCase)
                            && reader["graintypestring"] is string type && type.Contains(CertificateAuthorityGrain.KeysStateName, StringComparison.Ordinal))
                            caKeys.Add(bytes);
                    }
                    else
                    {
                        text.Append(' ').Append(value);
                    }
                }
                text.Append('\n');
            }
        }
        return new Dump(tables, text.ToString(), binaries, caKeys);
    }

    // The stored key record, opened with the test's own key-encryption key: the raw bytes to look for everywhere.
    private static void Collect(Dump dump, byte[] kek, Dictionary<string, KeyMaterial> keys)
    {
        var payload = Assert.Single(dump.CaKeyPayloads);
        var opened = StoredCaKeys.Open(payload, "dc1", kek);
        Assert.NotEmpty(opened);
        foreach (var (name, pem) in opened)
        {
            using var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            keys[name] = new KeyMaterial([
                ("PKCS#8 DER", ec.ExportPkcs8PrivateKey()), ("SEC1 DER", ec.ExportECPrivateKey()), ("private scalar", ec.ExportParameters(true).D!),
            ]);
        }
    }
}
