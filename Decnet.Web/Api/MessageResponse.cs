namespace Decnet.Web.Api;

/// <summary>The body of an action that answers with a sentence (config, users, deckies).</summary>
public sealed record MessageResponse(string Message);
