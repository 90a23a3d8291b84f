namespace Decnet.Tests.Infrastructure;

/// <summary>A folder under the system temp path that is deleted with the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "decnet-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process that still holds a file (SQLite WAL) must not fail the test; temp is swept anyway.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
