// Core namespaces the web host reads from everywhere, razor-generated code included: what Core announces
// on the hub, and the features that moved out of Events (the ingest, the dashboard statistics).
global using Decnet.Core.Events;
global using Decnet.Core.Ingest;
global using Decnet.Core.Ingest.Collection;
global using Decnet.Core.Notifications;
global using Decnet.Core.Overview;
