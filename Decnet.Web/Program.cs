using Decnet.Web.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddDecnetWeb();

var app = builder.Build();
app.UseDecnetWeb();
app.Run();

public partial class Program;
