# Multi-stage build of the ChatBot host (web chat, webhooks, portal, Hangfire server in one image).
# The same image runs the web role and the worker role (--role web|worker).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ChatBot.sln ./
COPY ChatData/ChatData.csproj ChatData/
COPY Adapters/Adapters.csproj Adapters/
COPY KnowledgeIngest/KnowledgeIngest.csproj KnowledgeIngest/
COPY AdminPortal/AdminPortal.csproj AdminPortal/
COPY BotHost/BotHost.csproj BotHost/
RUN dotnet restore BotHost/BotHost.csproj
COPY . .
RUN dotnet publish BotHost/BotHost.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_RUNNING_IN_CONTAINER=true
COPY --from=build /app .
RUN mkdir -p /app/data && chown -R app:app /app/data
USER app
EXPOSE 8080
ENTRYPOINT ["dotnet", "ChatBot.BotHost.dll"]
