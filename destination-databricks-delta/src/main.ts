#!/usr/bin/env node
import { main } from "@cdc-delta/shared";
import { destinationDefinition } from "./definition.js";

main(destinationDefinition);
