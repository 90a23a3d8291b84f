namespace Decnet.Tests.Infrastructure;

/// <summary>Files of the checkout the tests run from (examples, deploy scripts), found above the test output folder.</summary>
public static class RepositoryFiles
{
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(directory.FullName, "Decnet.sln")))
                {
                    return directory.FullName;
                }
            }
            throw new DirectoryNotFoundException("Decnet.sln not found above the test output folder.");
        }
    }

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
