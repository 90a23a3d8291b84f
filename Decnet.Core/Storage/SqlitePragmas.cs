using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Decnet.Core.Storage;

/// <summary>
/// Per-connection pragmas: a busy timeout so concurrent writers wait instead of failing, and
/// synchronous=NORMAL, which is durable under WAL. WAL itself is persistent and set once at start.
/// Pragmas stay with the native connection, which the pool hands out again and again: each one gets them once.
/// </summary>
public sealed class SqlitePragmas(int busyTimeoutMs) : DbConnectionInterceptor
{
    private static readonly ConditionalWeakTable<object, object> Applied = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        var native = (connection as SqliteConnection)?.Handle;
        if (native is not null && Applied.TryGetValue(native, out _))
        {
            return;
        }
        using var command = connection.CreateCommand();
        // The only interpolated value is an integer from validated options; PRAGMA takes no parameters.
#pragma warning disable CA2100
        command.CommandText = $"PRAGMA busy_timeout = {busyTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture)}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
#pragma warning restore CA2100
        command.ExecuteNonQuery();
        if (native is not null)
        {
            Applied.AddOrUpdate(native, Applied);
        }
    }
}
