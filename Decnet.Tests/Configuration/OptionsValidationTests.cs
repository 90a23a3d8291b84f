extern alias agent;

using System.Reflection;
using Decnet.Core.Configuration;
using Decnet.Core.Deckies.Docker;
using Decnet.Core.Deckies.Embedded;
using Decnet.Core.Events;
using Decnet.Core.Ingest;
using Decnet.Core.Events.Collection;
using Decnet.Core.Users;
using Decnet.Tests.Infrastructure;
using Decnet.Web.Configuration;
using Decnet.Web.Events;
using Decnet.Web.Extensions;
using Decnet.Web.Streaming;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Decnet.Core.Ingest.Collection;

namespace Decnet.Tests.Configuration;

/// <summary>
/// One validation style for every options section: an <see cref="IValidateOptions{TOptions}"/> that lists
/// every problem with its full key, checked when the host starts.
/// </summary>
public sealed class OptionsValidationTests
{
    private static readonly Assembly[] s_product = [typeof(OptionsProblems).Assembly, typeof(WebOptions).Assembly, typeof(agent::Decnet.Agent.Serve.AgentApplication).Assembly];

    /// <summary>Every class bound to a configuration section (it names its section in a constant).</summary>
    public static TheoryData<string> SectionTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in s_product.SelectMany(a => a.GetTypes()).Where(IsSectionOptions).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            data.Add(type.FullName!);
        }
        return data;
    }

    private static bool IsSectionOptions(Type type) =>
        type is { IsClass: true, IsAbstract: false } && type.Name.EndsWith("Options", StringComparison.Ordinal)
        && type.GetFields(BindingFlags.Public | BindingFlags.Static).Any(f => f is { IsLiteral: true, Name: "Section" or "SectionName" } && f.FieldType == typeof(string));

    [Fact]
    public void The_product_binds_the_sections_this_test_walks() =>
        // A rename that hid the options classes from the walk would make the theory below pass on nothing.
        Assert.True(SectionTypes().Count >= 17, $"only {SectionTypes().Count} options sections found");

    [Theory]
    [MemberData(nameof(SectionTypes))]
    public void Every_options_section_has_one_validator_and_no_data_annotation_shortcut(string typeName)
    {
        var type = s_product.Select(a => a.GetType(typeName)).First(t => t is not null)!;
        var contract = typeof(IValidateOptions<>).MakeGenericType(type);
        var validators = s_product.SelectMany(a => a.GetTypes()).Where(t => t is { IsClass: true, IsAbstract: false } && contract.IsAssignableFrom(t)).ToList();
        Assert.True(validators.Count == 1, $"{type.Name} has {validators.Count} validators: {string.Join(", ", validators.Select(v => v.Name))}");

        // Registered in the hosts that use the section, and never by ValidateDataAnnotations (whose message names no key).
        var registered = RegisteredValidators(contract);
        Assert.Contains(registered, r => r == validators[0]);
        Assert.DoesNotContain(registered, r => r.Name.StartsWith("DataAnnotationValidateOptions", StringComparison.Ordinal));
    }

    /// <summary>The validators the master registers, with the Docker runtime chosen (the sections it adds are the Docker ones).</summary>
    private static List<Type> RegisteredValidators(Type contract)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder(new Microsoft.AspNetCore.Builder.WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [Decnet.Core.Deckies.Runtime.RuntimeSelection.KindKey] = "docker" });
        builder.AddDecnetWeb();
        return [.. builder.Services.Where(d => d.ServiceType == contract).Select(d => d.ImplementationType ?? d.ImplementationInstance?.GetType()).OfType<Type>()];
    }

    public static TheoryData<string, string, string[]> BadSections() => new()
    {
        { WebOptions.Section, """{"Host":"decnet.example","Port":"0"}""", ["Decnet:Web:Host (DECNET_WEB_HOST) must be an IP address", "Decnet:Web:Port (DECNET_WEB_PORT) is 0; it must be between 1 and 65535."] },
        { LoggingOptions.Section, """{"Directory":" "}""", ["Decnet:Logging:Directory (DECNET_LOG_DIRECTORY) is required"] },
        { TelemetryOptions.Section, """{"OtlpEndpoint":"ftp://collector:4317"}""", ["Decnet:Telemetry:OtlpEndpoint (DECNET_OTEL_ENDPOINT) must be an http:// or https:// URL"] },
        { SiemFileOptions.Section, """{"Directory":"","MaxFileBytes":"10","MaxFiles":"0"}""", ["Decnet:Events:Siem:Directory is required", "Decnet:Events:Siem:MaxFileBytes is 10; it must be between 1024 and", "Decnet:Events:Siem:MaxFiles is 0; it must be between 1 and 1000."] },
        { EmbeddedRuntimeOptions.Section, """{"PrivilegedPortOffset":"65000"}""", ["Decnet:Runtime:Embedded:PrivilegedPortOffset is 65000; it must be between 0 and 64512."] },
        { UserOptions.Section, """{"AdminUser":"","BcryptWorkFactor":"2"}""", ["Decnet:Users:AdminUser:", "Decnet:Users:BcryptWorkFactor:"] },
        { DockerLogCollectorOptions.Section, """{"ChannelCapacity":"5","ReconnectDelay":"00:00:00"}""", ["Decnet:Ingest:Docker:ChannelCapacity:", "Decnet:Ingest:Docker:ReconnectDelay is 00:00:00; it must be between 00:00:00.0100000 and 00:10:00."] },
        { LogRetentionOptions.Section, """{"BatchSize":"1"}""", ["Decnet:Logs:Retention:BatchSize:"] },
        { EventStreamOptions.Section, """{"MaxConcurrentStreams":"2","MaxStreamsPerUser":"3"}""", ["Decnet:Stream:MaxStreamsPerUser (3) cannot exceed MaxConcurrentStreams (2)"] },
        { "Decnet:Swarm", """{"Agent":{"RetryAttempts":"9"},"Updates":{"MaxParallelHosts":"0"}}""", ["Decnet:Swarm:Agent:RetryAttempts:", "Decnet:Swarm:Updates:MaxParallelHosts:"] },
    };

    [Theory]
    [MemberData(nameof(BadSections))]
    public void A_bad_section_names_every_wrong_key(string section, string json, string[] expected)
    {
        var type = s_product.SelectMany(a => a.GetTypes()).Single(t => IsSectionOptions(t)
            && (string?)t.GetFields(BindingFlags.Public | BindingFlags.Static).First(f => f.Name is "Section" or "SectionName").GetRawConstantValue() == section);
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Nest(section, json)))).Build();
        var options = configuration.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!;
        var contract = typeof(IValidateOptions<>).MakeGenericType(type);
        var validator = Activator.CreateInstance(s_product.SelectMany(a => a.GetTypes()).Single(t => t is { IsClass: true, IsAbstract: false } && contract.IsAssignableFrom(t)))!;

        var result = (ValidateOptionsResult)contract.GetMethod(nameof(IValidateOptions<object>.Validate))!.Invoke(validator, [null, options])!;

        Assert.True(result.Failed, $"{section} accepted {json}");
        var failures = result.Failures!.ToList();
        foreach (var problem in expected)
        {
            Assert.True(failures.Any(f => f.StartsWith(problem, StringComparison.Ordinal)), $"'{problem}' not among: {string.Join(" | ", failures)}");
        }
        Assert.Equal(expected.Length, failures.Count);
    }

    [Fact]
    public void The_defaults_of_every_section_are_valid()
    {
        foreach (var type in s_product.SelectMany(a => a.GetTypes()).Where(IsSectionOptions))
        {
            var contract = typeof(IValidateOptions<>).MakeGenericType(type);
            var validatorType = s_product.SelectMany(a => a.GetTypes()).Single(t => t is { IsClass: true, IsAbstract: false } && contract.IsAssignableFrom(t));
            if (validatorType.GetConstructor(Type.EmptyTypes) is null)
            {
                continue;
            }
            var result = (ValidateOptionsResult)contract.GetMethod(nameof(IValidateOptions<object>.Validate))!.Invoke(Activator.CreateInstance(validatorType), [null, Activator.CreateInstance(type)])!;
            Assert.False(result.Failed, $"{type.Name} defaults: {result.FailureMessage}");
        }
    }

    /// <summary>The product started as the README says: a host name for the dashboard stops it with the key and variable named.</summary>
    [Fact]
    [Trait("Category", TestCategories.Integration)]
    public async Task The_real_process_refuses_a_dashboard_host_name_and_says_which_variable()
    {
        using var root = new TempDirectory();
        var (host, port) = MasterProcess.FreeAddress();
        var environment = MasterProcess.Environment(host, port, root.Path);
        environment["DECNET_WEB_HOST"] = "decnet.example";
        environment["Decnet__Events__Siem__MaxFiles"] = "0";
        await using var master = MasterProcess.Start(environment);

        var code = await master.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.NotEqual(0, code);
        Assert.Contains("Decnet:Web:Host (DECNET_WEB_HOST) must be an IP address", master.Output, StringComparison.Ordinal);
        Assert.Contains("Decnet:Events:Siem:MaxFiles is 0; it must be between 1 and 1000.", master.Output, StringComparison.Ordinal);
    }

    private static string Nest(string section, string json)
    {
        var parts = section.Split(':');
        return string.Concat(parts.Select(p => $"{{\"{p}\":")) + json + new string('}', parts.Length);
    }
}
