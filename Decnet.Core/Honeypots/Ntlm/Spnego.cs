using System.Formats.Asn1;

namespace Decnet.Core.Honeypots.Ntlm;

/// <summary>
/// The SPNEGO (RFC 4178) tokens an NTLM-only server sends. Client tokens are not parsed as ASN.1: the
/// NTLMSSP message inside is found by its signature, which copes with raw NTLMSSP, GSS-wrapped
/// NegTokenInit and NegTokenResp alike, and cannot be led astray by hostile lengths.
/// </summary>
public static class Spnego
{
    private const string SpnegoOid = "1.3.6.1.5.5.2";
    public const string NtlmSspOid = "1.3.6.1.4.1.311.2.2.10";

    public enum NegState
    {
        AcceptCompleted = 0,
        AcceptIncomplete = 1,
        Reject = 2,
    }

    /// <summary>The NegTokenInit a server advertises in its SMB2 NEGOTIATE response: NTLMSSP is the only mechanism.</summary>
    public static byte[] ServerInit()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence(new Asn1Tag(TagClass.Application, 0, isConstructed: true)))
        {
            writer.WriteObjectIdentifier(SpnegoOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence())
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(NtlmSspOid);
            }
        }
        return writer.Encode();
    }

    /// <summary>A NegTokenResp: the state, the chosen mechanism on the first answer, and the NTLM token if any.</summary>
    public static byte[] Response(NegState state, byte[]? token, bool includeMechanism)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true)))
        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteEnumeratedValue(state);
            }
            if (includeMechanism)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true)))
                {
                    writer.WriteObjectIdentifier(NtlmSspOid);
                }
            }
            if (token is not null)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2, isConstructed: true)))
                {
                    writer.WriteOctetString(token);
                }
            }
        }
        return writer.Encode();
    }

    /// <summary>The NTLMSSP message inside a security blob (everything from its signature on), or empty.</summary>
    public static ReadOnlySpan<byte> FindNtlm(ReadOnlySpan<byte> blob)
    {
        var at = blob.IndexOf(NtlmServer.Signature);
        return at < 0 ? [] : blob[at..];
    }
}
