// Core namespaces many tests read: what Core announces on the hub, and the features that moved out of
// Events (the ingest, the dashboard statistics).
global using Decnet.Core.Events;
global using Decnet.Core.Ingest;
global using Decnet.Core.Notifications;
global using Decnet.Core.Overview;
