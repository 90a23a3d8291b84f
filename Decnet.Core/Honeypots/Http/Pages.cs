using System.Net;

namespace Decnet.Core.Honeypots.Http;

/// <summary>The HTML of each fake application, written to look like the stock pages at a glance.</summary>
internal static class Pages
{
    private static string ApacheSignature(string server, string host, int port) =>
        $"<hr>\n<address>{WebUtility.HtmlEncode(server)} Server at {WebUtility.HtmlEncode(host)} Port {port}</address>\n";

    public static string ApacheForbidden(string server, string host, int port) => $"""
        <!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
        <html><head>
        <title>403 Forbidden</title>
        </head><body>
        <h1>Forbidden</h1>
        <p>You don't have permission to access this resource.</p>
        {ApacheSignature(server, host, port)}</body></html>

        """;

    public static string ApacheNotFound(string server, string encodedPath) => $"""
        <!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
        <html><head>
        <title>404 Not Found</title>
        </head><body>
        <h1>Not Found</h1>
        <p>The requested URL was not found on this server.</p>
        <hr>
        <address>{WebUtility.HtmlEncode(server)}</address>
        </body></html>

        """;

    public static string ApacheBadRequest(string server) => $"""
        <!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
        <html><head>
        <title>400 Bad Request</title>
        </head><body>
        <h1>Bad Request</h1>
        <p>Your browser sent a request that this server could not understand.<br />
        </p>
        <hr>
        <address>{WebUtility.HtmlEncode(server)}</address>
        </body></html>

        """;

    public const string ApacheItWorks = """
        <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
        <html xmlns="http://www.w3.org/1999/xhtml">
          <head>
            <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
            <title>Apache2 Debian Default Page: It works</title>
          </head>
          <body>
            <div class="main_page">
              <div class="page_header floating_element">
                <span class="floating_element">Apache2 Debian Default Page</span>
              </div>
              <div class="section_header"><div id="about"></div>It works!</div>
              <p>This is the default welcome page used to test the correct operation of the Apache2 server after
              installation on Debian systems. If you can read this page, it means that the Apache HTTP server installed at
              this site is working properly. You should <b>replace this file</b> (located at
              <tt>/var/www/html/index.html</tt>) before continuing to operate your HTTP server.</p>
              <div class="section_header">Configuration Overview</div>
              <p>Debian's Apache2 default configuration is different from the upstream default configuration, and split into
              several files optimized for interaction with Debian tools. The configuration system is
              <b>fully documented in /usr/share/doc/apache2/README.Debian.gz</b>.</p>
            </div>
          </body>
        </html>

        """;

    public const string NginxWelcome = """
        <!DOCTYPE html>
        <html>
        <head>
        <title>Welcome to nginx!</title>
        <style>
        html { color-scheme: light dark; }
        body { width: 35em; margin: 0 auto;
        font-family: Tahoma, Verdana, Arial, sans-serif; }
        </style>
        </head>
        <body>
        <h1>Welcome to nginx!</h1>
        <p>If you see this page, the nginx web server is successfully installed and
        working. Further configuration is required.</p>

        <p>For online documentation and support please refer to
        <a href="http://nginx.org/">nginx.org</a>.<br/>
        Commercial support is available at
        <a href="http://nginx.com/">nginx.com</a>.</p>

        <p><em>Thank you for using nginx.</em></p>
        </body>
        </html>

        """;

    public static string NginxNotFound(string server) => $"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>{WebUtility.HtmlEncode(server)}</center>\r\n</body>\r\n</html>\r\n";

    public static string NginxBadRequest(string server) => $"<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>{WebUtility.HtmlEncode(server)}</center>\r\n</body>\r\n</html>\r\n";

    public const string IisStart = """
        <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
        <html xmlns="http://www.w3.org/1999/xhtml">
        <head>
        <meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1" />
        <title>IIS Windows Server</title>
        <style type="text/css">
        body { color:#000000; background-color:#0072C6; margin:0; }
        #container { margin-left:auto; margin-right:auto; text-align:center; }
        </style>
        </head>
        <body>
        <div id="container">
        <a href="http://go.microsoft.com/fwlink/?linkid=66138&amp;clcid=0x409"><img src="iisstart.png" alt="IIS" width="960" height="600" /></a>
        </div>
        </body>
        </html>

        """;

    public const string IisNotFound = """
        <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
        <html xmlns="http://www.w3.org/1999/xhtml">
        <head>
        <meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
        <title>404 - File or directory not found.</title>
        </head>
        <body>
        <div id="header"><h1>Server Error</h1></div>
        <div id="content">
         <div class="content-container"><fieldset>
          <h2>404 - File or directory not found.</h2>
          <h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3>
         </fieldset></div>
        </div>
        </body>
        </html>

        """;

    public static string WordPressHome(string host) => $"""
        <!DOCTYPE html>
        <html lang="en-US">
        <head>
        <meta charset="UTF-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="WordPress 6.4.3" />
        <title>{WebUtility.HtmlEncode(host)} &#8211; Just another WordPress site</title>
        <link rel='stylesheet' id='wp-block-library-css' href='/wp-includes/css/dist/block-library/style.min.css?ver=6.4.3' media='all' />
        <link rel="https://api.w.org/" href="/wp-json/" />
        <link rel="EditURI" type="application/rsd+xml" title="RSD" href="/xmlrpc.php?rsd" />
        </head>
        <body class="home blog wp-embed-responsive">
        <header class="wp-block-template-part"><p class="wp-block-site-title"><a href="/" rel="home">{WebUtility.HtmlEncode(host)}</a></p></header>
        <main class="wp-block-group"><h2 class="wp-block-post-title"><a href="/?p=1">Hello world!</a></h2>
        <p>Welcome to WordPress. This is your first post. Edit or delete it, then start writing!</p></main>
        <footer><p>Proudly powered by <a href="https://wordpress.org">WordPress</a> | <a href="/wp-login.php">Log in</a></p></footer>
        </body>
        </html>

        """;

    public static string WordPressLogin(string host, string? failedUser) => $"""
        <!DOCTYPE html>
        <html lang="en-US">
        <head>
        <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
        <title>Log In &lsaquo; {WebUtility.HtmlEncode(host)} &#8212; WordPress</title>
        <meta name='robots' content='max-image-preview:large, noindex, noarchive' />
        <link rel='stylesheet' id='login-css' href='/wp-admin/css/login.min.css?ver=6.4.3' media='all' />
        </head>
        <body class="login no-js login-action-login wp-core-ui locale-en-us">
        <div id="login">
        <h1><a href="https://wordpress.org/">Powered by WordPress</a></h1>
        {(failedUser is null ? string.Empty : $"<div id=\"login_error\" class=\"notice notice-error\"><strong>Error:</strong> The password you entered for the username <strong>{WebUtility.HtmlEncode(failedUser)}</strong> is incorrect. <a href=\"/wp-login.php?action=lostpassword\">Lost your password?</a><br /></div>")}
        <form name="loginform" id="loginform" action="/wp-login.php" method="post">
        <p><label for="user_login">Username or Email Address</label>
        <input type="text" name="log" id="user_login" class="input" value="{WebUtility.HtmlEncode(failedUser ?? string.Empty)}" size="20" autocapitalize="off" autocomplete="username" required="required" /></p>
        <div class="user-pass-wrap"><label for="user_pass">Password</label>
        <div class="wp-pwd"><input type="password" name="pwd" id="user_pass" class="input password-input" value="" size="20" autocomplete="current-password" spellcheck="false" required="required" /></div></div>
        <p class="forgetmenot"><input name="rememberme" type="checkbox" id="rememberme" value="forever" /> <label for="rememberme">Remember Me</label></p>
        <p class="submit"><input type="submit" name="wp-submit" id="wp-submit" class="button button-primary button-large" value="Log In" />
        <input type="hidden" name="redirect_to" value="/wp-admin/" /><input type="hidden" name="testcookie" value="1" /></p>
        </form>
        <p id="nav"><a href="/wp-login.php?action=lostpassword">Lost your password?</a></p>
        </div>
        </body>
        </html>

        """;

    public static string PhpMyAdminLogin(string? failedUser) => $"""
        <!DOCTYPE HTML>
        <html lang="en" dir="ltr">
        <head>
        <meta charset="utf-8">
        <meta name="referrer" content="no-referrer">
        <meta name="robots" content="noindex,nofollow">
        <title>phpMyAdmin</title>
        <link rel="stylesheet" type="text/css" href="./themes/pmahomme/css/theme.css?v=5.2.1">
        </head>
        <body>
        <div class="container">
        <a href="./url.php?url=https%3A%2F%2Fwww.phpmyadmin.net%2F" target="_blank" rel="noopener noreferrer" class="logo">
        <img id="imLogo" src="./themes/pmahomme/img/logo_right.png" alt="phpMyAdmin" border="0"></a>
        <h1>Welcome to <bdo dir="ltr" lang="en">phpMyAdmin</bdo></h1>
        {(failedUser is null ? string.Empty : $"<div class=\"alert alert-danger\" role=\"alert\"><img src=\"themes/dot.gif\" title=\"\" alt=\"\" class=\"icon ic_s_error\"> mysqli::real_connect(): (HY000/1045): Access denied for user '{WebUtility.HtmlEncode(failedUser)}'@'localhost' (using password: YES)</div>")}
        <form method="post" id="login_form" action="index.php?route=/" name="login_form" class="disableAjax hide js-show">
        <fieldset class="pma-fieldset"><legend>Log in</legend>
        <div class="item"><label for="input_username">Username:</label>
        <input type="text" name="pma_username" id="input_username" value="{WebUtility.HtmlEncode(failedUser ?? string.Empty)}" size="24" class="textfield" autocomplete="username"></div>
        <div class="item"><label for="input_password">Password:</label>
        <input type="password" name="pma_password" id="input_password" value="" size="24" class="textfield" autocomplete="current-password"></div>
        <input type="hidden" name="server" value="1">
        </fieldset>
        <fieldset class="pma-fieldset tblFooters"><input class="btn btn-primary" value="Log in" type="submit" id="input_go">
        <input type="hidden" name="route" value="/"><input type="hidden" name="token" value="5e2f6b3c4a1d7e8f9a0b1c2d3e4f5a6b"></fieldset>
        </form>
        </div>
        </body>
        </html>

        """;
}
