using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Decnet.Core.Storage;

/// <summary>
/// Per-connection pragmas: a busy timeout so concurrent writers wait instead of failing, and
/// synchronous=NORMAL, which is durable under WAL. WAL itself is persistent and set once at start.
/// </summary>
public sealed class SqlitePragmas(int busyTimeoutMs) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        // The only interpolated value is an integer from validated options; PRAGMA takes no parameters.
#pragma warning disable CA2100
        command.CommandText = $"PRAGMA busy_timeout = {busyTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture)}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
#pragma warning restore CA2100
        command.ExecuteNonQuery();
    }
}
