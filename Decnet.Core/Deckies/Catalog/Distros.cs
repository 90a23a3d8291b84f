using System.Globalization;

namespace Decnet.Core.Deckies;

/// <summary>How a distro family tends to name its machines; hostnames are part of the disguise.</summary>
public enum HostnameStyle
{
    /// <summary>Corporate inventory style: <c>SRV-WORD-nn</c>.</summary>
    Generic,

    /// <summary>Red Hat installer default domain: <c>wordnn.localdomain</c>.</summary>
    Rhel,

    /// <summary>Short appliance-like names: <c>word-nn</c>.</summary>
    Minimal,

    /// <summary>Hobbyist two-word names: <c>word-word</c>.</summary>
    Rolling,
}

/// <summary>A Linux distribution a decky's base container is built from.</summary>
/// <param name="BuildBase">
/// apt-based image for service builds; every service image installs its packages with apt-get, so
/// distros without apt use the Debian base here.
/// </param>
public sealed record DistroProfile(
    string Slug,
    string BaseImage,
    string DisplayName,
    HostnameStyle HostnameStyle,
    string BuildBase);

/// <summary>The distro profiles deckies are built on, and hostname generation in each one's style.</summary>
public static class Distros
{
    private const string DebianImage = "debian:bookworm-slim";

    public static IReadOnlyList<DistroProfile> All { get; } =
    [
        new("debian", DebianImage, "Debian 12 (Bookworm)", HostnameStyle.Generic, DebianImage),
        new("ubuntu22", "ubuntu:22.04", "Ubuntu 22.04 LTS", HostnameStyle.Generic, "ubuntu:22.04"),
        new("ubuntu20", "ubuntu:20.04", "Ubuntu 20.04 LTS", HostnameStyle.Generic, "ubuntu:20.04"),
        new("rocky9", "rockylinux:9-minimal", "Rocky Linux 9", HostnameStyle.Rhel, DebianImage),
        new("centos7", "centos:7", "CentOS 7", HostnameStyle.Rhel, DebianImage),
        new("alpine", "alpine:3.19", "Alpine Linux 3.19", HostnameStyle.Minimal, DebianImage),
        new("fedora", "fedora:39", "Fedora 39", HostnameStyle.Rhel, DebianImage),
        new("kali", "kalilinux/kali-rolling", "Kali Linux (Rolling)", HostnameStyle.Rolling, "kalilinux/kali-rolling"),
        new("arch", "archlinux:latest", "Arch Linux", HostnameStyle.Rolling, DebianImage),
    ];

    public static IReadOnlyList<string> Slugs { get; } = [.. All.Select(d => d.Slug)];

    /// <summary>Words hostnames are made of: bland infrastructure nouns that blend into a real inventory.</summary>
    public static IReadOnlyList<string> HostnameWords { get; } =
    [
        "atlas", "beacon", "cedar", "delta", "ember", "falcon", "granite", "harbor", "iris",
        "juniper", "kestrel", "lumen", "maple", "nimbus", "onyx", "pioneer", "quartz", "raven",
        "summit", "tundra", "umber", "vertex", "willow", "xenon", "zephyr",
    ];

    public static DistroProfile? Find(string? slug) =>
        string.IsNullOrWhiteSpace(slug)
            ? null
            : All.FirstOrDefault(d => string.Equals(d.Slug, slug.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <exception cref="KeyNotFoundException">No distro has this slug; the message lists the valid ones.</exception>
    public static DistroProfile Get(string slug) =>
        Find(slug) ?? throw new KeyNotFoundException($"unknown distro '{slug}'; valid distros: {string.Join(", ", Slugs)}");

    /// <summary>A random hostname in the distro's style. Pass a seeded <see cref="Random"/> for repeatable fleets.</summary>
    public static string GenerateHostname(DistroProfile distro, Random random)
    {
        ArgumentNullException.ThrowIfNull(distro);
        return GenerateHostname(distro.HostnameStyle, random);
    }

    public static string GenerateHostname(HostnameStyle style, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var word = PickWord(random);
        var number = random.Next(10, 100).ToString(CultureInfo.InvariantCulture);
        return style switch
        {
            HostnameStyle.Generic => $"SRV-{word.ToUpperInvariant()}-{number}",
            HostnameStyle.Rhel => $"{word}{number}.localdomain",
            HostnameStyle.Minimal => $"{word}-{number}",
            HostnameStyle.Rolling => $"{word}-{PickOtherWord(random, word)}",
            _ => throw new ArgumentOutOfRangeException(nameof(style), style, "unknown hostname style"),
        };
    }

    private static string PickWord(Random random) => HostnameWords[random.Next(HostnameWords.Count)];

    // "cedar-cedar" reads like a typo, not a hostname someone chose.
    private static string PickOtherWord(Random random, string first)
    {
        var index = random.Next(HostnameWords.Count - 1);
        var firstIndex = IndexOf(first);
        return HostnameWords[index >= firstIndex ? index + 1 : index];
    }

    private static int IndexOf(string word)
    {
        for (var i = 0; i < HostnameWords.Count; i++)
        {
            if (HostnameWords[i] == word)
            {
                return i;
            }
        }

        return -1;
    }
}
