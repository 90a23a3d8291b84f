using Decnet.Core.Deckies.Fleet;
using Decnet.Web.Components;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;

namespace Decnet.Web.Deckies.Pages;

/// <summary>The INI editor: upload or paste, validate with errors at their line, preview, deploy.</summary>
public partial class DeployPanel
{
    private const long MaxIniBytes = 512 * 1024;

    [Inject]
    public required DeckyFleet Fleet { get; init; }

    [Inject]
    public required CurrentOperator Operator { get; init; }

    [Parameter]
    public string Banner { get; set; } = "";

    [Parameter]
    public EventCallback<FleetOperation> OnDeployed { get; set; }

    public string IniText { get; set; } = "";

    private DeploymentPreview? _preview;
    private FleetOperation? _result;
    private string? _uploadError;
    private bool _busy;

    private IEnumerable<(int Number, string Text)> Lines() =>
        IniText.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n').Select((text, i) => (i + 1, text));

    private async Task LoadFileAsync(InputFileChangeEventArgs e)
    {
        _uploadError = null;
        if (e.File.Size > MaxIniBytes)
        {
            _uploadError = $"{e.File.Name} is {e.File.Size / 1024} KiB; an INI may be at most 512 KiB.";
            return;
        }
        using var reader = new StreamReader(e.File.OpenReadStream(MaxIniBytes));
        IniText = await reader.ReadToEndAsync();
        await ValidateAsync();
    }

    private void LoadSample()
    {
        IniText = SampleIni;
        _preview = null;
    }

    private async Task ValidateAsync()
    {
        _result = null;
        _preview = await Fleet.PreviewAsync(IniText, CancellationToken.None);
    }

    private async Task DeployAsync()
    {
        _busy = true;
        _result = null;
        try
        {
            if (await Operator.AuthorizeAdminAsync() is not { } admin)
            {
                _result = new FleetOperation(FleetOperationStatus.Failed, CurrentOperator.AdminRightsGone);
                return;
            }
            _result = await Fleet.DeployAsync(admin.Username, IniText, CancellationToken.None);
            if (_result.Status == FleetOperationStatus.Invalid)
            {
                _preview = new DeploymentPreview(null, _result.Errors ?? [], null);
            }
        }
        finally
        {
            _busy = false;
        }
        if (_result.Succeeded)
        {
            await OnDeployed.InvokeAsync(_result);
        }
    }

    /// <summary>deploy/examples/lab.ini as shipped (embedded at build time), so the page and the documentation never drift apart.</summary>
    internal static string SampleIni { get; } = ReadSample();

    private static string ReadSample()
    {
        using var stream = typeof(DeployPanel).Assembly.GetManifestResourceStream("Decnet.Examples.lab.ini")
            ?? throw new InvalidOperationException("The lab example is not embedded in Decnet.Web.");
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
