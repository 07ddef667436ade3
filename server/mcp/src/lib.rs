//! `showrunner mcp [DIR]`: the story bible as a Model Context Protocol server on stdio, built on
//! the official Rust SDK (`rmcp`). The only crate that knows MCP; it translates, nothing more:
//! - [`tools`]: search, read a bucket (at a position) or a scene, mentions, a scene's assembled
//!   context, the model cascade, pipelines, runs and gates, and proposals — an edit or a bucket
//!   that waits as a gate in the writer's approval queue, never written before they approve it;
//! - [`catalog`]: resources (buckets and scenes by URI) and prompts (the built-in pipelines'
//!   templates);
//! - [`projects`]: the project DIR is in, or every project below it.
//!
//! Each request reads the project from disk on a blocking thread. A tool that cannot do what it
//! was asked answers with a readable error result; arguments that are not what the tool takes
//! (wrong types, unknown keys, ids that are paths, sizes past the limits) are an
//! `invalid_params` error naming the problem. Logs go to stderr: stdout is the protocol.

pub mod catalog;
pub mod projects;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock, ErrorData as McpError, GetPromptRequestParams,
    GetPromptResult, Implementation, InitializeResult, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, Prompt, PromptArgument, PromptMessage,
    ReadResourceRequestParams, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role,
    ServerCapabilities, ServerInfo, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, ServiceExt};

use crate::projects::Projects;
use crate::tools::Refusal;

/// The server: the projects it serves.
#[derive(Clone)]
pub struct Bible {
    projects: Arc<Projects>,
}

impl Bible {
    pub fn new(dir: &std::path::Path) -> anyhow::Result<Bible> {
        Ok(Bible { projects: Arc::new(Projects::find(dir)?) })
    }
}

/// Runs `work` on a blocking thread (projects are read from disk, SQLite is queried); a panic
/// becomes an internal error, never the end of the server.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, McpError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        let why = if e.is_panic() { "the request stopped unexpectedly (a bug; please report it)" } else { "cancelled" };
        McpError::internal_error(why.to_string(), None)
    })
}

fn client_name(context: &RequestContext<RoleServer>) -> String {
    context.peer.peer_info().map(|i| i.client_info.name.clone()).unwrap_or_else(|| "an MCP client".into())
}

impl ServerHandler for Bible {
    fn get_info(&self) -> ServerInfo {
        let caps = ServerCapabilities::builder().enable_tools().enable_resources().enable_prompts().build();
        InitializeResult::new(caps)
            .with_server_info(Implementation::new("showrunner", env!("CARGO_PKG_VERSION")).with_title("Showrunner story bible"))
            .with_instructions(
                "The story bible of a Showrunner project (novels, series, screenplays): search the story and everything \
                 earlier runs said, read buckets (characters, places, research) as they stand at a point in the story, \
                 read scenes, see what context a scene gets and which model a step calls. To change anything, propose it \
                 (propose_edit, propose_bucket): the writer approves or rejects every proposal in their editor; nothing is \
                 written before that.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = tools::TOOLS
            .iter()
            .map(|t| {
                let annotations =
                    ToolAnnotations::from_raw(None, Some(t.read_only), Some(false), Some(t.read_only), Some(false));
                Tool::new(t.name, t.description, tools::schema(t)).with_annotations(annotations)
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let projects = self.projects.clone();
        let client = client_name(&context);
        let name = request.name.to_string();
        let outcome = blocking(move || tools::call(&projects, &name, request.arguments.as_ref(), &client)).await?;
        match outcome {
            Ok(value) => Ok(CallToolResult::structured(value)),
            Err(Refusal::Failed(message)) => Ok(CallToolResult::error(vec![ContentBlock::text(message)])),
            Err(Refusal::Arguments(message)) => Err(McpError::invalid_params(message, None)),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let projects = self.projects.clone();
        let list = blocking(move || catalog::resources(&projects)).await?;
        let resources = list
            .into_iter()
            .map(|(uri, name, title, description, mime)| {
                Resource::new(uri, name).with_title(title).with_description(description).with_mime_type(mime)
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let templates = catalog::TEMPLATES
            .iter()
            .map(|(t, name, d)| ResourceTemplate::new(*t, *name).with_description(*d).with_mime_type("text/markdown"))
            .collect();
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResult, McpError> {
        let projects = self.projects.clone();
        let uri = request.uri.clone();
        let (text, mime) = blocking(move || catalog::read(&projects, &uri))
            .await?
            .map_err(|message| McpError::resource_not_found(message, None))?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, request.uri).with_mime_type(mime)]))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let prompts = catalog::prompts()
            .into_iter()
            .map(|(name, description, args)| {
                let args = args
                    .into_iter()
                    .map(|(n, d, required)| PromptArgument::new(n).with_description(d).with_required(required))
                    .collect();
                Prompt::new(name, Some(description), Some(args))
            })
            .collect();
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResult, McpError> {
        let projects = self.projects.clone();
        let args = request.arguments.clone().unwrap_or_default();
        let name = request.name.clone();
        let (description, text) = blocking(move || catalog::prompt(&projects, &name, &args))
            .await?
            .map_err(|message| McpError::invalid_params(message, None))?;
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description(description))
    }
}

/// Serves the projects of `dir` on stdin/stdout until the client goes away.
pub async fn serve_stdio(dir: PathBuf) -> anyhow::Result<()> {
    let bible = Bible::new(&dir)?;
    let service = bible.serve(rmcp::transport::stdio()).await?;
    service.waiting().await?;
    Ok(())
}
