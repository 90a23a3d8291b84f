using System.Globalization;
using Decnet.Core.Recordings;
using Microsoft.AspNetCore.Components;

namespace Decnet.Web.Components.Controls.Replay;

/// <summary>
/// Replays an asciicast recording in the page, server-side: the output frames up to the play position
/// are fed to a <see cref="TerminalScreen"/> whose text is rendered. Play, pause, restart, speed and
/// seeking; long idle gaps are shortened to <see cref="IdleLimitSeconds"/> as asciinema players do.
/// </summary>
public partial class SessionReplayPlayer : IAsyncDisposable
{
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    public const double IdleLimitSeconds = 2;
    public static readonly IReadOnlyList<double> Speeds = [0.5, 1, 2, 4, 8, 16];

    [Parameter, EditorRequired]
    public required Asciicast Cast { get; set; }

    [Inject]
    public required TimeProvider Time { get; init; }

    private Asciicast? _loaded;
    private List<(double Time, string Data)> _frames = [];
    private TerminalScreen _screen = new(80, 24);
    private int _applied;
    private double _position;
    private double _duration;
    private double _speed = 1;
    private bool _playing;
    private CancellationTokenSource? _loop;
    private long _tickedAt;

    private long DurationMilliseconds => (long)Math.Ceiling(_duration * 1000);

    private long PositionMilliseconds => (long)(_position * 1000);

    protected override async Task OnParametersSetAsync()
    {
        if (ReferenceEquals(_loaded, Cast))
        {
            return;
        }
        await StopAsync();
        _loaded = Cast;
        _frames = Compress(Cast.Frames);
        _duration = _frames.Count == 0 ? 0 : _frames[^1].Time;
        Reset();
        Advance();
    }

    /// <summary>Output frames only, with idle gaps capped: a session left open overnight still replays in seconds.</summary>
    public static List<(double Time, string Data)> Compress(IReadOnlyList<AsciicastFrame> frames)
    {
        var result = new List<(double, string)>();
        double previous = 0, shifted = 0;
        foreach (var frame in frames)
        {
            var gap = frame.Time - previous;
            shifted += Math.Min(Math.Max(0, gap), IdleLimitSeconds);
            previous = frame.Time;
            if (frame.Kind == "o")
            {
                result.Add((shifted, frame.Data));
            }
        }
        return result;
    }

    private void Reset()
    {
        // A client that asked for a pty without a terminal (ssh -tt from a script) reports 0x0: assume 80x24.
        _screen = new TerminalScreen(Cast.Header.Width < 20 ? 80 : Cast.Header.Width, Cast.Header.Height < 5 ? 24 : Cast.Header.Height);
        _applied = 0;
        _position = 0;
    }

    private void Advance()
    {
        while (_applied < _frames.Count && _frames[_applied].Time <= _position)
        {
            _screen.Write(_frames[_applied++].Data);
        }
    }

    private async Task TogglePlayAsync()
    {
        if (_playing)
        {
            await StopAsync();
            return;
        }
        if (_position >= _duration)
        {
            Reset();
            Advance();
        }
        Start();
    }

    private async Task RestartAsync()
    {
        var wasPlaying = _playing;
        await StopAsync();
        Reset();
        Advance();
        if (wasPlaying)
        {
            Start();
        }
    }

    private void SetSpeed(ChangeEventArgs e)
    {
        if (double.TryParse(e.Value?.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var speed) && Speeds.Contains(speed))
        {
            _speed = speed;
        }
    }

    private Task SeekAsync(ChangeEventArgs e)
    {
        if (!double.TryParse(e.Value?.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            return Task.CompletedTask;
        }
        var target = Math.Clamp(milliseconds / 1000, 0, _duration);
        if (target < _position)
        {
            Reset();
        }
        _position = target;
        Advance();
        return Task.CompletedTask;
    }

    private void Start()
    {
        _playing = true;
        _tickedAt = Time.GetTimestamp();
        _loop = new CancellationTokenSource();
        _ = PlayAsync(_loop.Token);
    }

    private async Task StopAsync()
    {
        _playing = false;
        if (_loop is { } loop)
        {
            _loop = null;
            await loop.CancelAsync();
            loop.Dispose();
        }
    }

    private async Task PlayAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Tick, Time, cancellationToken);
                await InvokeAsync(() =>
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                    // The clock, not the tick count, moves the position: a late tick catches up instead of slowing the replay.
                    var now = Time.GetTimestamp();
                    _position = Math.Min(_duration, _position + Time.GetElapsedTime(_tickedAt, now).TotalSeconds * _speed);
                    _tickedAt = now;
                    Advance();
                    if (_position >= _duration)
                    {
                        _playing = false;
                    }
                    StateHasChanged();
                });
                if (!_playing)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Paused, restarted or closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        GC.SuppressFinalize(this);
    }
}
