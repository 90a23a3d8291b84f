namespace Decnet.Core.Export;

/// <summary>
/// Bounds the exports running at once: each holds a database read and a busy response for as long as the
/// client downloads. A request beyond the bound is refused at once rather than queued.
/// </summary>
public sealed class ExportGate
{
    public const int MaxConcurrent = 4;

    private readonly SemaphoreSlim _slots = new(MaxConcurrent, MaxConcurrent);

    /// <summary>A slot while the returned lease lives; null when every slot is taken.</summary>
    public IDisposable? TryEnter() => _slots.Wait(0) ? new Lease(_slots) : null;

    private sealed class Lease(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
